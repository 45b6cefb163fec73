"""``sealtrail validation pq``: the performance qualification (PQ), a scripted scenario run on
a served deployment with synthetic data only (docs/validation/performance-qualification.md).

Run on the deployment's machine, as the account that runs the server (it opens the store from
the ``SEALTRAIL_*`` settings, as ``sealtrail user add`` does, and verifies the log there), by an
administrator (``--as``, ``--key``, the password from ``SEALTRAIL_PASSWORD``). It opens the
PQ's synthetic accounts signed by that administrator, then does the synthetic subjects'
lifecycles through the API at ``--url`` (:mod:`api.qualification.scenario`): the whole
demonstration cohort's with ``--cohort`` (what the validation guide asks for), one subject's
without it (a quick check), and writes
``pq-report.json`` (signed with the server's key), ``pq-report.html``, ``pq-packet.zip`` and the
synthetic people's keys (``keys/``) under ``--out``.

Exit 0 when every step passed; 1 when a step failed (the report is still written) or the
administrator may not open the accounts; 2 when ``--out`` cannot be written, the URL does not
answer or serves another store than the settings', or an option is wrong: then nothing is
recorded on the store. Once the scenario is over, the synthetic accounts are locked.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import click

from api.console import client
from api.console.administration import administrator_options
from api.console.command import one_line_errors
from api.console.exits import REFUSED, UsageError
from api.console.people import signatory
from api.console.witness_options import witness_options, witness_policy
from api.demonstration.plans import STUDY
from api.qualification.accounts import PQ_SITE, PQ_STAFF, lock_pq_staff, open_pq_staff
from api.qualification.scenario import Scenario, demonstration_cohort, one_subject
from domain.errors import DomainError
from infrastructure.application.commands import Signatory
from infrastructure.bootstrap import open_store
from infrastructure.installation.run import sealed, write_record
from infrastructure.settings import PRIVATE_FOLDER, Settings
from infrastructure.validation.performance import (
    RECORD_KIND,
    Step,
    html_record,
    verdict,
)
from infrastructure.whole_files import replace_whole

SYNTHETIC_NOTE = (
    "Every account (pq.*), site (PQ) and subject (PQ-<time>, PQ-<time>-NN) this run made is "
    "synthetic, made for the performance qualification; they stay in the permanent log, as "
    "every record does."
)
COHORT, ONE_SUBJECT = "demonstration cohort", "one subject"
"""The record's ``extent``: which subjects the run took through the API."""


@click.command("pq")
@click.option("--url", required=True, help="The deployment's base URL, e.g. https://trial.example")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder for pq-report.json, pq-report.html, pq-packet.zip and keys/ (made if "
    "missing).",
)
@click.option(
    "--documents/--no-documents",
    default=True,
    show_default=True,
    help="Draw the packet's PDFs and compare them when it is verified (the slow part).",
)
@click.option(
    "--cohort/--one-subject",
    default=False,
    show_default=True,
    help="The whole demonstration cohort's lifecycle (every record `sealtrail demo` records, "
    "about 1,350 signed writes; the PQ the validation guide asks for), or one subject's "
    "(a dozen writes, a quick check).",
)
@witness_options
@administrator_options
@one_line_errors
def pq(
    url: str,
    out: Path,
    documents: bool,
    cohort: bool,
    witness_keys: tuple[str, ...],
    quorum: int | None,
    witness_max_age: int,
    acting_as: str,
    signing_key: Path,
) -> None:
    """Run the performance qualification (PQ) on the deployment at --url: synthetic accounts
    and the demonstration cohort's lifecycle (--cohort) or one subject's through the API, read
    back, a packet verified offline, the log verified, the witnesses' quorum with --witness; a
    signed report."""
    witnesses = witness_policy(witness_keys, quorum, witness_max_age)
    started = datetime.now(UTC)
    _writable(out)
    settings = Settings.from_environ()
    served = client.public_document(f"{url.rstrip('/')}/v1/server-key")
    accounts = Step(
        "accounts",
        "the PQ's synthetic staff opened by the administrator, each change signed, their roles "
        "in force once training is attested, the PQ site's delegation log",
        ("E6-4.2.2-1", "P11-11.10d-2", "E6-2.3-1"),
    )
    store = open_store()
    try:
        if served.get("key_id") != store.app.server_key.key_id:
            raise UsageError(
                f"{url} serves a store signed by {served.get('key_id')}, not this one's "
                f"({store.app.server_key.key_id}): run the PQ on the deployment's machine"
            )
        administrator = signatory(store, acting_as, signing_key)
        with accounts.timed():
            people = open_pq_staff(store, administrator, out / "keys")
        server_key_id = store.app.server_key.key_id
    finally:
        store.close()
    accounts.passed(by=acting_as, accounts=[person.user_id for person in PQ_STAFF.values()])
    scenario = Scenario(
        url,
        people,
        demonstration_cohort(started) if cohort else one_subject(started),
        witnesses=witnesses,
        documents=documents,
        packet_path=out / "pq-packet.zip",
        server_key_id=server_key_id,
    )
    try:
        site_steps = scenario.run_site()
    finally:
        # Whatever happened to the site's work; before the log is verified, so that the
        # verification covers the locks too.
        locked = _locked(administrator)
    steps = [accounts, *site_steps, locked, *scenario.run_checks()]
    extent = COHORT if cohort else ONE_SUBJECT
    document = sealed(settings, _fields(settings, url, scenario, steps, started, extent))
    json_path, html_path = out / "pq-report.json", out / "pq-report.html"
    write_record(json_path, document)
    replace_whole(html_path, html_record(document).encode("utf-8"))
    width = max(len(step.name) for step in steps)
    for step in steps:
        said = f"  {step.detail}" if step.detail else ""
        click.echo(f"{step.name:<{width}}  {step.result.upper()}{said}")
    click.echo(f"record: {json_path}")
    click.echo(f"page: {html_path}")
    passed = document["passed"]
    click.echo(f"{'PQ PASSED' if passed else 'PQ NOT PASSED'}: {_ran(scenario)}")
    if not passed:
        sys.exit(REFUSED)


def _ran(scenario: Scenario) -> str:
    """What the run took through the API, as its last line says it."""
    codes = [subject.code for subject in scenario.subjects]
    if len(codes) == 1:
        which = f"subject {codes[0]}"
    else:
        which = f"{len(codes)} subjects {codes[0]} to {codes[-1]}"
    return f"{which}, {scenario.signed_writes:,} signed writes through the API"


def _locked(administrator: Signatory) -> Step:
    """The PQ's accounts locked once it is over (the administrator's signature, checked by
    password at the start, signs it)."""
    step = Step(
        "accounts locked",
        "the synthetic accounts locked once the scenario is over: no one signs in as them "
        "with the keys left in --out",
        ("P11-11.300d-1",),
    )
    store = open_store()
    try:
        with step.timed():
            step.passed(locked=lock_pq_staff(store, administrator))
    except DomainError as error:
        step.failed(f"{error.title}: {error}")
    finally:
        store.close()
    return step


def _writable(out: Path) -> None:
    """``--out`` made (private) and writable, before anything is recorded on the store."""
    probe = out / ".pq-write-check"
    try:
        out.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"cannot write to {out}: {error.strerror or error}") from None


def _fields(
    settings: Settings,
    url: str,
    scenario: Scenario,
    steps: list[Step],
    started: datetime,
    extent: str,
) -> dict[str, Any]:
    return {
        "kind": RECORD_KIND,
        "synthetic": True,
        "synthetic_note": SYNTHETIC_NOTE,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "url": url,
        "host": platform.node(),
        "sealtrail": metadata.version("sealtrail"),
        "database": settings.database_url.render_as_string(hide_password=True),
        "study": STUDY,
        "site": PQ_SITE,
        "extent": extent,
        "subjects": [
            {"code": subject.code, "demonstrates": subject.demonstrates}
            for subject in scenario.subjects
        ],
        "signed_writes": scenario.signed_writes,
        "accounts": [person.user_id for person in PQ_STAFF.values()],
        "passed": verdict(steps),
        "steps": [step.as_dict() for step in steps],
    }
