"""The permission matrix on the command line: every role, at the subject's site and at another,
on every console command that acts as a person.

As in tests/access/test_permission_matrix.py, the expected table is written out by hand from
issue 5 (not derived from ``domain.permissions``). The subject is RP-01 at site RP; "own" is a
person acting for RP, "other" one acting for SP. Each person authenticates with their own
password, as a user at the console does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from api.console import main
from domain.account import Role
from infrastructure.application.commands import OpenAccount
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from tests.conftest import reader_env
from tests.reports.conftest import SUBJECT

OWN, OTHER = "RP", "SP"
ROLES = [role for role in Role if role is not Role.SYSTEM]
BOTH = {OWN, OTHER}

COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "replay": lambda out: ["replay", "--subject", SUBJECT, "--as-of", "2099-12-31"],
    "report outcomes": lambda out: ["report", "outcomes", "--json"],
    "report audit-trail --subject": lambda out: [
        *("report", "audit-trail", "--subject", SUBJECT, "--format", "csv", "--out", str(out))
    ],
    "report audit-trail (every subject)": lambda out: [
        *("report", "audit-trail", "--format", "json", "--out", str(out))
    ],
    "report conep-sae": lambda out: [
        *("report", "conep-sae", "--event", f"{SUBJECT}/AE-01", "--format", "json"),
        *("--out", str(out)),
    ],
    "report conep-progress": lambda out: [
        *("report", "conep-progress", "--format", "json", "--out", str(out))
    ],
    "report audit-review": lambda out: [
        *("report", "audit-review", "--format", "json", "--out", str(out))
    ],
    "packet build": lambda out: ["packet", "build", "--no-documents", "--out", str(out)],
    "user list": lambda out: ["user", "list"],
    "user attempts": lambda out: ["user", "attempts"],
}

READS_THE_SUBJECT = {
    Role.SITE_COORDINATOR: {OWN},
    Role.INVESTIGATOR: {OWN},
    Role.MONITOR: {OWN},
    Role.AUDITOR: BOTH,
    Role.SPONSOR_DATA_MANAGER: BOTH,
}
READS_EVERY_SITE = {Role.AUDITOR: BOTH, Role.SPONSOR_DATA_MANAGER: BOTH}
SPONSOR_ONLY = {Role.SPONSOR_DATA_MANAGER: BOTH}
READS_ACCOUNTS = {Role.ADMINISTRATOR: BOTH, Role.AUDITOR: BOTH}

ALLOWED: dict[str, dict[Role, set[str]]] = {
    "replay": READS_THE_SUBJECT,
    "report outcomes": READS_EVERY_SITE,
    "report audit-trail --subject": READS_THE_SUBJECT,
    "report audit-trail (every subject)": READS_EVERY_SITE,
    "report conep-sae": SPONSOR_ONLY,
    "report conep-progress": SPONSOR_ONLY,
    "report audit-review": READS_EVERY_SITE,
    "packet build": SPONSOR_ONLY,
    "user list": READS_ACCOUNTS,
    "user attempts": READS_ACCOUNTS,
}


@pytest.fixture(scope="module")
def people(followed: Store) -> dict[tuple[Role, str], dict[str, str]]:
    """One person of each role at each site, in force, with a password."""
    open_sponsor_account(followed.administration, followed.settings)
    return {
        (role, site): reader_env(followed, role, f"{role.value}-{site}".lower(), (site,))
        for role, site in itertools.product(ROLES, [OWN, OTHER])
    }


def run(store: Store, person: dict[str, str], args: list[str]) -> Result:
    env = {
        "SEALTRAIL_HOME": str(store.settings.home),
        "SEALTRAIL_DATABASE_URL": store.settings.database_url.render_as_string(False),
        **person,
    }
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.mark.requirement("P11-11.10d-1")
@pytest.mark.parametrize(
    ("command", "role", "site"),
    list(itertools.product(COMMANDS, ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_each_console_command_runs_for_exactly_the_roles_issue_5_names(
    followed: Store,
    people: dict[tuple[Role, str], dict[str, str]],
    tmp_path: Path,
    command: str,
    role: Role,
    site: str,
) -> None:
    out = tmp_path / "out"
    allowed = site in ALLOWED[command].get(role, set())

    done = run(followed, people[role, site], COMMANDS[command](out))

    if allowed:
        assert done.exit_code == 0, done.output
    else:
        # Issue 15.11: to a role that reads its own sites, another site's subject is no subject.
        unseen = ALLOWED[command] is READS_THE_SUBJECT and role in READS_THE_SUBJECT
        refusal = "Subject not found: " if unseen else "Not permitted: "
        assert done.exit_code == 1, done.output
        assert done.stdout == ""
        assert done.stderr.startswith(f"sealtrail: {refusal}"), done.stderr
        assert "'RP'" not in done.stderr
        assert done.stderr.count("\n") == 1
        assert not out.exists()


EXPECTED_ACTION = {
    "replay": "read clinical data",
    "report outcomes": "read clinical data",
    "report audit-trail --subject": "read clinical data",
    "report audit-trail (every subject)": "read clinical data",
    "report conep-sae": "build reports and packets",
    "report conep-progress": "build reports and packets",
    "report audit-review": "review the audit trail",
    "packet build": "build reports and packets",
    "user list": "read accounts and the authentication log",
    "user attempts": "read accounts and the authentication log",
}


def test_the_table_names_every_console_command_and_no_other() -> None:
    assert set(ALLOWED) == set(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_role_awaiting_training_runs_no_console_command(
    followed: Store, tmp_path: Path, command: str
) -> None:
    user_id = f"untrained{list(COMMANDS).index(command)}"
    followed.administration.open_account(
        OpenAccount(
            user_id=user_id, printed_name="Rui Lima", role=Role.AUDITOR, sites=(), training=None
        )
    )
    followed.credentials.set_password(user_id, "an untrained auditor's passphrase")
    out = tmp_path / "out"

    done = run(
        followed,
        {"SEALTRAIL_USER": user_id, "SEALTRAIL_PASSWORD": "an untrained auditor's passphrase"},
        COMMANDS[command](out),
    )

    assert done.exit_code == 1, done.output
    assert done.stderr == (
        f"sealtrail: Not permitted: {user_id}'s role auditor awaits training attestation, "
        f"so does not {EXPECTED_ACTION[command]}\n"
    )
    assert not out.exists()


def test_wrong_passwords_at_the_console_lock_the_account_as_at_the_api(followed: Store) -> None:
    person = reader_env(followed, Role.AUDITOR, "audit-locked")
    wrong = {**person, "SEALTRAIL_PASSWORD": "not my passphrase at all"}
    lockout_after = followed.access.policy.lockout_after

    refused = [run(followed, wrong, ["report", "outcomes"]) for _ in range(lockout_after)]
    then = run(followed, person, ["report", "outcomes"])

    assert [done.exit_code for done in refused] == [1] * lockout_after
    assert all(done.stderr.startswith("sealtrail: Authentication failed:") for done in refused)
    account = followed.app.find_account("audit-locked")
    assert account is not None and account.locked
    assert then.exit_code == 1 and then.stdout == ""
    assert "audit-locked is locked" in then.stderr
    outcomes = [a.outcome for a in followed.access.attempts("audit-locked")]
    assert outcomes.count("failed") == lockout_after and outcomes[0] == "refused"
