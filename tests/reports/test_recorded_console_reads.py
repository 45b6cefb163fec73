"""Every console command that hands out trial data records it (issue 18, point 6): the inventory.

Every command of ``sealtrail`` is listed below, either as a recorded read (how to run it, what
the disclosure log calls the copy, its scope, where the copy goes) or as an exemption saying
why it hands out no subject or personnel data. A new command on neither list fails
:func:`test_every_console_command_is_a_recorded_read_or_exempt`, so none can forget; the API's
inventory is tests/replay/test_recorded_reads.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from api.console import main
from domain.account import Role
from domain.disclosure import (
    ACCESS_REVIEW,
    ACCOUNT_HISTORY,
    ACCOUNTS,
    AUDIT_REVIEW,
    AUDIT_TRAIL,
    AUTHENTICATION_LOG,
    CONEP,
    DELEGATION_LOG,
    DISCLOSURE_LOG,
    OUTCOMES,
    PACKET,
    REPLAY,
    SOURCE_VERIFICATION,
    UNSIGNED,
)
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from tests.conftest import STUDY, reader_env
from tests.reports.conftest import SUBJECT, reporter


@dataclass(frozen=True)
class Read:
    """A console read: run by ``who`` with ``args`` (``{out}`` is the file to write), recorded
    as ``what`` of ``scope``; the copy is what it prints, or with ``out`` the file written."""

    who: str
    args: tuple[str, ...]
    what: str
    scope: str
    out: bool = False


SUBJECT_SCOPE = f"{STUDY}/{SUBJECT}"
OUT = "{out}"

RECORDED_COMMANDS: dict[str, Read] = {
    "replay": Read(
        "auditor", ("replay", "--subject", SUBJECT, "--as-of", "2099-12-31"), REPLAY, SUBJECT_SCOPE
    ),
    "report outcomes": Read("auditor", ("report", "outcomes", "--json"), OUTCOMES, STUDY),
    "report unsigned": Read("auditor", ("report", "unsigned", "--site", "RP"), UNSIGNED,
                            f"{STUDY} site RP"),
    "report audit-trail": Read(
        "auditor",
        ("report", "audit-trail", "--subject", SUBJECT, "--format", "csv", "--out", OUT),
        AUDIT_TRAIL, SUBJECT_SCOPE, out=True,
    ),
    "report audit-review": Read("auditor", ("report", "audit-review", "--format", "csv"),
                                AUDIT_REVIEW, STUDY),
    "report conep-sae": Read(
        "sponsor",
        ("report", "conep-sae", "--event", f"{SUBJECT}/AE-01", "--format", "json", "--out", OUT),
        CONEP, SUBJECT_SCOPE, out=True,
    ),
    "report conep-progress": Read(
        "sponsor", ("report", "conep-progress", "--format", "json", "--out", OUT), CONEP, STUDY,
        out=True,
    ),
    "report access-review": Read("auditor", ("report", "access-review"), ACCESS_REVIEW, STUDY),
    "report sdv": Read("auditor", ("report", "sdv", "--subject", SUBJECT), SOURCE_VERIFICATION,
                       SUBJECT_SCOPE),
    "report delegation-log": Read(
        "auditor", ("report", "delegation-log", "--site", "RP", "--format", "csv", "--out", OUT),
        DELEGATION_LOG, f"{STUDY} site RP", out=True,
    ),
    "packet build": Read("sponsor", ("packet", "build", "--no-documents", "--out", OUT), PACKET,
                         STUDY, out=True),
    "user list": Read("auditor", ("user", "list", "--json"), ACCOUNTS, STUDY),
    "user show": Read("auditor", ("user", "show", "coord1"), ACCOUNT_HISTORY, STUDY),
    "user attempts": Read("auditor", ("user", "attempts"), AUTHENTICATION_LOG, STUDY),
    "user copies": Read("auditor", ("user", "copies"), DISCLOSURE_LOG, STUDY),
}  # fmt: skip

EXEMPT_COMMANDS: dict[str, str] = {
    # The operator's commands: they keep the server running, print no clinical value and act
    # as no person (api/console/people.py). backup copies the database with its keys, to be
    # kept by whoever runs the server, and seals a checkpoint of exactly what it copied.
    "init": "operator",
    "demo": "operator",
    "serve": "operator",
    "verify": "operator: findings name positions and hashes, no value",
    "checkpoint": "operator: the log's size and root",
    "rebuild": "operator: the projections' digest",
    "project": "operator: a count of log positions",
    "backup": "operator",
    "check-install": "operator: the installation's checks; it prints no record's value",
    # The OQ's report: the requirements, the tests' source and a run's JUnit XML; no store.
    "validation report": "no store: requirements, tests and a test run",
    # The PQ reads its own synthetic subject back through the API, which records each copy
    # it hands to the PQ's synthetic people; check-record checks a record's seal and prints
    # which check it kept, no record of the store.
    "validation pq": "through the API, which records its copies: a synthetic subject only",
    "validation check-record": "a qualification record's seal: no record of the store",
    # A witness's round: it reads the public checkpoint and proof, as anyone may, and prints
    # the size it cosigned; it acts as no person of the log and reads no subject's data.
    "witness": "a witness: the log's public checkpoints and proofs",
    # Writes: each prints what it recorded (a receipt, the account changed), nothing more.
    "submit": "write",
    "sign": "write",
    "sign-casebook": "write",
    "freeze": "write",
    "lock subject": "write",
    "lock site": "write",
    "lock study": "write",
    "unlock request": "write",
    "unlock approve": "write",
    "reopen site": "write",
    "reopen study": "write",
    "packet receive": "write: the receipt of a copy the site already holds",
    "user add": "write",
    "user train": "write",
    "user reset-password": "write",
    "user password": "write",
    "user grant": "write",
    "user revoke-role": "write",
    "user assign-site": "write",
    "user unassign-site": "write",
    "user lock": "write",
    "user unlock": "write",
    "user review": "write: prints how many accounts were reviewed",
    "delegation delegate": "write",
    "delegation end": "write",
    "key generate": "a key pair written to files, no store",
    "key register": "write",
    "key rotate": "write",
    "key revoke": "write",
    # Reads only the packet it is given, with no store and no person: the copy is already out.
    "packet verify": "no store",
}


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command of ``sealtrail``, as typed: ``report outcomes``."""
    # Asked as click asks: the root group imports a command's module only when it is named.
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


def test_every_console_command_is_a_recorded_read_or_exempt() -> None:
    every = set(commands())

    assert set(RECORDED_COMMANDS) & set(EXEMPT_COMMANDS) == set()
    assert every - set(RECORDED_COMMANDS) - set(EXEMPT_COMMANDS) == set(), (
        "a command neither recorded as a copy handed out nor exempt: record what it hands out "
        "(api.console.handing_out) and add it to RECORDED_COMMANDS, or, if it hands out no "
        "subject or personnel data, add it to EXEMPT_COMMANDS with the reason"
    )
    assert set(RECORDED_COMMANDS) | set(EXEMPT_COMMANDS) <= every, "a command listed that is gone"


@pytest.fixture(scope="module")
def people(followed: Store) -> dict[str, dict[str, str]]:
    """An auditor, and the sponsor's data manager (with the sponsor's packet key)."""
    open_sponsor_account(followed.administration, followed.settings)
    auditor = reader_env(followed, Role.AUDITOR, "audit-copies")
    return {"auditor": auditor, "sponsor": reporter(followed)}


def run(store: Store, person: dict[str, str], args: list[str]) -> Result:
    env = {
        "SEALTRAIL_HOME": str(store.settings.home),
        "SEALTRAIL_DATABASE_URL": store.settings.database_url.render_as_string(False),
        **person,
    }
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.mark.parametrize("command", sorted(RECORDED_COMMANDS))
def test_each_read_at_the_console_is_recorded_with_its_scope_and_the_hash_of_the_copy(
    followed: Store, people: dict[str, dict[str, str]], tmp_path: Path, command: str
) -> None:
    read = RECORDED_COMMANDS[command]
    person = people[read.who]
    user_id = person["SEALTRAIL_USER"]
    out = tmp_path / "copy"
    earlier = len(followed.disclosures.of(user_id))

    done = run(followed, person, [arg.replace(OUT, str(out)) for arg in read.args])

    assert done.exit_code == 0, done.output
    copies = followed.disclosures.of(user_id)
    assert len(copies) == earlier + 1
    copy = copies[-1]
    assert (copy.what, str(copy.scope), copy.channel) == (read.what, read.scope, "console")
    handed = out.read_bytes() if read.out else done.stdout_bytes
    assert copy.sha256 == hashlib.sha256(handed).hexdigest()
    assert copy.log_size > 0 and len(copy.log_root) == 64


REFUSED: dict[str, Callable[[str], list[str]]] = {
    # (a person of site SP, or an unknown subject, account or study): refused, nothing handed out
    "report unsigned": lambda out: ["report", "unsigned", "--site", "RP"],
    "report sdv": lambda out: ["report", "sdv", "--subject", SUBJECT],
    "report access-review": lambda out: ["report", "access-review"],
    "report delegation-log": lambda out: [
        *("report", "delegation-log", "--site", "RP", "--format", "csv", "--out", out)
    ],
    "report audit-review": lambda out: ["report", "audit-review", "--out", out],
    "user show": lambda out: ["user", "show", "coord1"],
    "user copies": lambda out: ["user", "copies"],
}


@pytest.mark.parametrize("command", sorted(REFUSED))
def test_a_refused_read_at_the_console_prints_nothing_and_records_nothing(
    followed: Store, tmp_path: Path, command: str
) -> None:
    user_id = f"monitor-sp-{sorted(REFUSED).index(command)}"
    outsider = reader_env(followed, Role.MONITOR, user_id, ("SP",))
    out = tmp_path / "copy"

    done = run(followed, outsider, REFUSED[command](str(out)))

    assert done.exit_code == 1, done.output
    assert done.stdout == "" and not out.exists()
    assert followed.disclosures.logs.log(user_id) is None  # not even begun


@pytest.mark.parametrize(
    "args",
    [
        ["user", "show", "nobody"],
        ["report", "sdv", "--subject", "RP-999"],
        ["replay", "--subject", "RP-999", "--as-of", "2099-12-31"],
        ["report", "outcomes", "--study", "NOT-A-STUDY"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_read_of_what_is_not_there_records_nothing(
    followed: Store, people: dict[str, dict[str, str]], args: list[str]
) -> None:
    user_id = people["auditor"]["SEALTRAIL_USER"]
    earlier = followed.disclosures.of(user_id)

    done = run(followed, people["auditor"], args)

    assert done.exit_code in (1, 2), done.output
    assert done.stdout == ""
    assert followed.disclosures.of(user_id) == earlier
