"""The demonstration's synthetic staff: who they are, their accounts and keys, and how they sign.

Each signs with their own Ed25519 key, kept under ``SEALTRAIL_HOME`` so that a later run signs
with the key the account already has; the printed names say they are not persons. Once loaded,
each is issued a one-time password (:func:`issue_one_time_passwords`), so that a person trying
the demonstration can sign in as each of its roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.demonstration.plans import COORDINATOR, DATA_MANAGER, INVESTIGATOR, MONITOR, SITE, STUDY
from api.schemas.submissions import submission_from
from domain.account import Role
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.commands import (
    AttestTraining,
    OpenAccount,
    RegisterKey,
    ResetPassword,
    Signatory,
    Submission,
    Training,
)
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_text,
)

__all__ = [
    "STAFF",
    "OneTimePassword",
    "Staff",
    "issue_one_time_passwords",
    "signed_submission",
    "staff_signatory",
]


@dataclass(frozen=True)
class Staff:
    """A synthetic member of the site's (or the sponsor's) staff."""

    user_id: str
    printed_name: str
    role: Role
    sites: tuple[str, ...] = (SITE,)

    def opening(
        self, training: Training, public_key: str, *, one_time_password: bool = False
    ) -> OpenAccount:
        """Their account to open in one save: role, sites, the training attested, the key, and
        a one-time password if asked for."""
        return OpenAccount(
            user_id=self.user_id,
            printed_name=self.printed_name,
            role=self.role,
            sites=self.sites,
            training=training,
            public_key=public_key,
            one_time_password=one_time_password,
        )


STAFF: dict[str, Staff] = {
    COORDINATOR: Staff("demo.coordinator", "Demo Coordinator (synthetic)", Role.SITE_COORDINATOR),
    INVESTIGATOR: Staff("demo.investigator", "Demo Investigator (synthetic)", Role.INVESTIGATOR),
    MONITOR: Staff("demo.monitor", "Demo Monitor (synthetic)", Role.MONITOR),
    # The sponsor's: a sponsor data manager acts at every site, assigned to none.
    DATA_MANAGER: Staff(
        "demo.data_manager", "Demo Data Manager (synthetic)", Role.SPONSOR_DATA_MANAGER, ()
    ),
}
TRAINING = Training(
    "GCP and sealtrail data entry (synthetic demonstration account)", date(2011, 1, 24)
)
"""Attested as the accounts are opened: a role is in force only once trained for (11.10(i))."""


def staff_signatory(store: Store, staff: Staff) -> Signatory:
    """The staff member as a signatory: their account and key, made on first run."""
    return Signatory(staff.user_id, staff.printed_name, _staff_key(store, staff))


def signed_submission(
    signatory: Signatory,
    code: str,
    version: int,
    kind: str,
    data: dict[str, Any],
    *,
    meaning: str = "authorship",
) -> Submission:
    """The signatory's signed body of one ``kind`` for subject ``code`` at ``version`` of its
    stream, as a site's client signs it (docs/signing.md)."""
    body = signed_event_body(
        {"study": STUDY, "subject": code},
        version=version,
        kind=kind,
        data=data,
        signer=(signatory.user_id, signatory.printed_name),
        key_id=key_id(signatory.private_key.public_key()),
    )
    body["meaning"] = meaning
    _, signature = sign_body(signatory.private_key, body)
    return submission_from(body, signature)


@dataclass(frozen=True)
class OneTimePassword:
    """A one-time password issued to one of the staff: shown once, changed at first use."""

    staff: Staff
    password: str


def issue_one_time_passwords(store: Store) -> list[OneTimePassword]:
    """A one-time password for each of the staff whose account never had a password; the
    others (a later run, a person who has chosen their own) are left as they are.

    Each is issued as an administrator's reset is, signed by the server (the one signatory of
    the demonstration's administration): a ``PasswordChanged`` event, temporary, in the
    account's history, and only the Argon2id hash kept. Like ``init``'s for the administrator,
    it opens nothing but its own change, so each person chooses their own password first.
    """
    issued = []
    for staff in STAFF.values():
        account = store.app.find_account(staff.user_id)
        if account is None or account.password_changed_at is not None:
            continue
        password = store.administration.reset_password(ResetPassword(staff.user_id), by=None)
        issued.append(OneTimePassword(staff, password))
    return issued


def _staff_key(store: Store, staff: Staff) -> Ed25519PrivateKey:
    """The staff member's account and key, made on first run; the key is kept under
    SEALTRAIL_HOME so a later run signs with the key the account already has."""
    path = store.settings.keys_dir / "demo" / f"{staff.user_id}.pem"
    if path.exists():
        private_key = private_key_from_pem(path.read_bytes())
    else:
        private_key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(private_key_to_pem(private_key))
    public_key = public_key_to_text(private_key.public_key())
    account = store.app.find_account(staff.user_id)
    if account is None:
        # Opened by the server, the one signatory of the demonstration's administration; the
        # password comes once the cohort is loaded (issue_one_time_passwords).
        store.administration.open_account(staff.opening(TRAINING, public_key))
        return private_key
    if account.role is staff.role and account.effective_role is None:
        # Opened before roles needed a training attestation.
        store.administration.attest_training(
            AttestTraining(
                user_id=staff.user_id,
                role=staff.role,
                course=TRAINING.course,
                completed_on=TRAINING.completed_on,
            )
        )
    if key_id(private_key.public_key()) not in account.keys:
        store.administration.register_key(RegisterKey(user_id=staff.user_id, public_key=public_key))
    return private_key
