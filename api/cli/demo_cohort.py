"""The demonstration data: synthetic subjects of NCT01297972, loaded through the signed path.

Every event is signed by a synthetic member of the site's staff with their own key and goes
through :func:`api.submissions.submission_from` and ``SealTrail.record``, exactly as a site's
submission does. Loading resumes where it stopped, so a second run adds nothing.
(The full cohort of nine that reproduces the published results comes with issue 4.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from api.submissions import submission_from
from domain.account import Role
from domain.subject import subject_stream
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store
from infrastructure.credentials import one_time_password
from signatures.authorship import sign_body
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_text,
)

STUDY = "NCT01297972"
SITE = "RP"
COORDINATOR = ("demo.coordinator", "Demo Coordinator (synthetic)", Role.SITE_COORDINATOR)

ELIGIBLE = {
    **{f"IN{n}": True for n in range(1, 4)},
    **{f"EX{n}": False for n in range(1, 10)},
}


def _lab(analyte: str, value: str, unit: str, at: str) -> tuple[str, dict[str, Any]]:
    return (
        "LabResultRecorded",
        {"analyte": analyte, "result": {"value": value, "unit": unit}, "collected_at": at},
    )


COHORT: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "RP-101": [
        ("Screened", {"site": SITE, "sex": "F", "age": 34, "screened_on": "2011-02-14"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-02-14"}),
        ("Enrolled", {"eligibility": ELIGIBLE, "enrolled_on": "2011-02-21"}),
        _lab("haemoglobin", "6.8", "g/dL", "2011-02-21T08:00:00Z"),
        _lab("neutrophils", "0.31", "10^9/L", "2011-02-21T08:00:00Z"),
        _lab("platelets", "9", "10^9/L", "2011-02-21T08:00:00Z"),
        (
            "MscInfusionGiven",
            {
                "infusion_number": 1,
                "dose": {"value": "2.7", "unit": "10^6 cells/kg"},
                "product_lot": "MSC-2011-014",
                "given_at": "2011-03-10T10:30:00Z",
            },
        ),
        (
            "MscInfusionGiven",
            {
                "infusion_number": 2,
                "dose": {"value": "2.5", "unit": "10^6 cells/kg"},
                "product_lot": "MSC-2011-015",
                "given_at": "2011-03-17T10:15:00Z",
            },
        ),
        (
            "AdverseEventReported",
            {
                "term": "Febrile neutropenia",
                "grade": 3,
                "serious": True,
                "relatedness": "unlikely",
                "onset_on": "2011-03-25",
            },
        ),
        _lab("haemoglobin", "7.4", "g/dL", "2011-04-04T08:00:00Z"),
        _lab("neutrophils", "0.42", "10^9/L", "2011-04-04T08:00:00Z"),
        _lab("platelets", "12", "10^9/L", "2011-04-04T08:00:00Z"),
    ],
    "RP-102": [
        ("Screened", {"site": SITE, "sex": "M", "age": 51, "screened_on": "2011-03-01"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-03-01"}),
    ],
}


def load(store: Store, *, progress: bool = False) -> int:
    """Load what is missing of the cohort; returns how many events were added."""
    user_id, printed_name, _role = COORDINATOR
    private_key = _staff_key(store)
    pending = [
        (code, kind, data)
        for code, records in COHORT.items()
        for kind, data in records[_recorded(store, code) :]
    ]
    with click.progressbar(pending, label="demo", hidden=not progress) as bar:
        for code, kind, data in bar:
            body = {
                "study": STUDY,
                "subject": code,
                "kind": kind,
                "data": data,
                "signer": {"user_id": user_id, "printed_name": printed_name},
                "key_id": key_id(private_key.public_key()),
                "signed_at": instant_to_wire(datetime.now(UTC)),
                "meaning": "authorship",
            }
            _, signature = sign_body(private_key, body)
            store.app.record(submission_from(body, signature), actor_id=user_id)
    store.views.catch_up()
    return len(pending)


def _recorded(store: Store, code: str) -> int:
    subject = store.app.find_subject(subject_stream(STUDY, code))
    return 0 if subject is None else subject.version


def _staff_key(store: Store) -> Any:
    """The coordinator's account and key, made on first run and kept under SEALTRAIL_HOME."""
    user_id, printed_name, role = COORDINATOR
    path = store.settings.keys_dir / "demo" / f"{user_id}.pem"
    if store.app.find_account(user_id) is None:
        store.app.open_account(user_id=user_id, printed_name=printed_name, role=role, sites=(SITE,))
        store.credentials.set_password(user_id, one_time_password())
    if path.exists():
        private_key = private_key_from_pem(path.read_bytes())
    else:
        private_key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(private_key_to_pem(private_key))
    account = store.app.account(user_id)
    if key_id(private_key.public_key()) not in account.keys:
        store.app.register_key(
            user_id=user_id, public_key=public_key_to_text(private_key.public_key())
        )
    return private_key
