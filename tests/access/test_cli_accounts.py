"""``sealtrail user`` and ``sealtrail key`` as an administrator runs them, in a real process.

Every change is signed by the administrator (``--as``, ``--key``) after their password is
checked; a refusal is one line and exit 1, wrong usage one line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.e2e.test_cli import ADMIN_ENV, ADMIN_PASSWORD, as_admin, sealtrail

COORDINATOR = ("user", "add", "coord1", "--name", "Ana Souza", "--role", "site_coordinator")


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
    return sealtrail(*args, home=home, extra_env=ADMIN_ENV if env is None else env)


def one_line(done: CompletedProcess[str]) -> str:
    stderr = done.stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def test_init_signs_only_the_first_administrator_and_prints_its_key(tmp_path: Path) -> None:
    done = sealtrail("init", home=tmp_path)

    assert done.returncode == 0, done.stderr
    assert f"administrator's signing key: {tmp_path / 'admin.pem'}" in done.stdout
    assert (tmp_path / "admin.pem").stat().st_mode & 0o777 == 0o600


def test_init_takes_the_first_administrators_public_key_from_their_machine(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "elsewhere"
    sealtrail("key", "generate", "--out", str(keys / "mine.pem"), home=tmp_path)

    done = sealtrail(
        "init", "--admin-public-key", str(keys / "mine.pub.pem"), home=tmp_path / "store"
    )

    assert done.returncode == 0, done.stderr
    assert str(keys / "mine.pub.pem") in done.stdout
    assert not (tmp_path / "store" / "admin.pem").exists()


def test_an_administrator_runs_the_whole_life_of_an_account(home: Path) -> None:
    admin = as_admin(home)
    steps = [
        (*COORDINATOR, "--site", "RP", *admin),
        ("user", "train", "coord1", "--role", "site_coordinator", "--course", "GCP",
         "--completed-on", "2011-01-10", *admin),
        ("user", "assign-site", "coord1", "--site", "SP", *admin),
        ("user", "unassign-site", "coord1", "--site", "SP", "--reason", "moved", *admin),
        ("user", "revoke-role", "coord1", "--role", "site_coordinator", "--reason", "x", *admin),
        ("user", "grant", "coord1", "--role", "investigator", *admin),
        ("user", "lock", "coord1", "--reason", "on leave", *admin),
        ("user", "unlock", "coord1", "--reason", "back", *admin),
        ("user", "reset-password", "coord1", *admin),
    ]  # fmt: skip
    for step in steps:
        done = run(home, *step)
        assert done.returncode == 0, (step, done.stderr)

    shown = run(home, "user", "show", "coord1", "--json", "--as", "admin")
    listed = run(home, "user", "list", "--as", "admin")
    verified = sealtrail("verify", home=home)

    document = json.loads(shown.stdout)
    assert [entry["kind"] for entry in document["history"]] == [
        "Opened", "RoleGranted", "SiteAssigned", "PasswordChanged", "TrainingAttested",
        "SiteAssigned", "SiteUnassigned", "RoleRevoked", "RoleGranted", "AccountLocked",
        "AccountUnlocked", "PasswordChanged",
    ]  # fmt: skip
    assert {entry["signed_by"] for entry in document["history"]} == {"admin"}
    assert document["role"] == "investigator" and document["role_in_force"] is None
    assert "coord1\tinvestigator (awaiting training)\tRP\tAna Souza" in listed.stdout
    assert verified.returncode == 0, verified.stdout


def test_keys_are_registered_rotated_and_revoked_by_the_administrator(home: Path) -> None:
    admin = as_admin(home)
    run(home, *COORDINATOR, *admin)
    for name in ("k1", "k2"):
        sealtrail("key", "generate", "--out", str(home / f"{name}.pem"), home=home)

    registered = run(home, "key", "register", "--user", "coord1",
                     "--public-key", str(home / "k1.pub.pem"), *admin)  # fmt: skip
    old = registered.stdout.split()[1]
    rotated = run(home, "key", "rotate", "--user", "coord1", "--key-id", old,
                  "--public-key", str(home / "k2.pub.pem"), *admin)  # fmt: skip
    new = rotated.stdout.split()[-1]
    blank = run(home, "key", "revoke", "--user", "coord1", "--key-id", new,
                "--reason", "\u200b ", *admin)  # fmt: skip
    revoked = run(home, "key", "revoke", "--user", "coord1", "--key-id", new,
                  "--reason", "lost", "--at", "2030-01-01T00:00:00Z", *admin)  # fmt: skip
    rotated_again = run(home, "key", "rotate", "--user", "coord1", "--key-id", old,
                        "--public-key", str(home / "k1.pub.pem"), *admin)  # fmt: skip

    assert registered.returncode == rotated.returncode == revoked.returncode == 0
    assert rotated_again.returncode == 1
    assert "Key already revoked" in one_line(rotated_again)
    assert blank.returncode == 1 and "Reason not stated" in one_line(blank)
    shown = json.loads(run(home, "user", "show", "coord1", "--json", "--as", "admin").stdout)
    assert [(k["key_id"], k["revoked_at"]) for k in shown["keys"]][1] == (
        new,
        "2030-01-01T00:00:00Z",
    )
    assert sealtrail("verify", home=home).returncode == 0


def test_a_wrong_administrator_password_is_refused_recorded_and_counted(home: Path) -> None:
    wrong = {"SEALTRAIL_PASSWORD": "not the password"}

    attempts = [run(home, *COORDINATOR, *as_admin(home), env=wrong) for _ in range(5)]
    locked = run(home, *COORDINATOR, *as_admin(home))
    locked_wrong = run(home, *COORDINATOR, *as_admin(home), env=wrong)

    assert all(done.returncode == 1 for done in attempts)
    assert "Authentication failed: wrong user id or password" in one_line(attempts[0])
    assert locked.returncode == 1
    assert "Account locked" in one_line(locked)
    # No password oracle: the right and a wrong password are told the very same thing.
    assert (locked_wrong.returncode, locked_wrong.stdout, locked_wrong.stderr) == (
        locked.returncode,
        locked.stdout,
        locked.stderr,
    )


def test_a_person_who_is_not_an_administrator_administers_nothing(home: Path) -> None:
    admin = as_admin(home)
    created = run(home, "user", "add", "aud1", "--name", "Alice", "--role", "auditor", *admin)
    one_time = created.stdout.split("one-time password: ")[1].strip()
    chosen = {"SEALTRAIL_PASSWORD": one_time, "SEALTRAIL_NEW_PASSWORD": "auditor passphrase"}
    run(home, "user", "password", "aud1", env=chosen)
    run(home, "user", "train", "aud1", "--role", "auditor", "--course", "GCP",
        "--completed-on", "2011-01-10", *admin)  # fmt: skip
    sealtrail("key", "generate", "--out", str(home / "aud1.pem"), home=home)
    run(home, "key", "register", "--user", "aud1", "--public-key", str(home / "aud1.pub.pem"),
        *admin)  # fmt: skip
    auditor = {"SEALTRAIL_PASSWORD": "auditor passphrase"}

    refused = run(home, *COORDINATOR, "--as", "aud1", "--key", str(home / "aud1.pem"), env=auditor)
    reads = run(home, "user", "attempts", "aud1", "--json", "--as", "aud1", env=auditor)

    assert refused.returncode == 1
    assert "auditor does not administer users" in one_line(refused)
    assert reads.returncode == 0, reads.stderr
    rows = json.loads(reads.stdout)
    assert {(row["channel"], row["outcome"]) for row in rows} == {
        ("password", "succeeded"),
        ("console", "succeeded"),
    }


def test_a_key_that_is_not_the_administrators_signs_nothing(home: Path) -> None:
    sealtrail("key", "generate", "--out", str(home / "stolen.pem"), home=home)

    done = run(home, *COORDINATOR, "--as", "admin", "--key", str(home / "stolen.pem"))

    assert done.returncode == 1
    assert "is not registered for admin" in one_line(done)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((*COORDINATOR,), ADMIN_ENV, "Missing option '--as'"),
        ((*COORDINATOR, "--as", "admin", "--key", "/nonexistent.pem"), ADMIN_ENV, "does not exist"),
        ("key-file-not-a-key", ADMIN_ENV, "not a readable private key"),
        ("as-admin", {}, "set SEALTRAIL_PASSWORD"),
        (("user", "train", "coord1", "--role", "auditor", "--course", "c",
          "--completed-on", "last week"), ADMIN_ENV, "is not YYYY-MM-DD"),
        (("user", "list"), ADMIN_ENV, "Missing option '--as'"),
    ],
)  # fmt: skip
def test_wrong_usage_is_one_line_and_exit_2(
    home: Path, args: tuple[str, ...] | str, env: dict[str, str], message: str
) -> None:
    if args == "key-file-not-a-key":
        (home / "junk.pem").write_text("junk")
        args = (*COORDINATOR, "--as", "admin", "--key", str(home / "junk.pem"))
    elif args == "as-admin":
        args = (*COORDINATOR, *as_admin(home))
    elif args[1] == "train":
        args = (*args, *as_admin(home))

    done = sealtrail(*args, home=home, extra_env=env, stdin="")

    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_a_one_time_password_must_be_changed_on_the_console_too(tmp_path: Path) -> None:
    init = sealtrail("init", home=tmp_path)
    one_time = init.stdout.split("one-time password: ")[1].split()[0]

    refused = sealtrail("user", "list", "--as", "admin", home=tmp_path,
                        extra_env={"SEALTRAIL_PASSWORD": one_time})  # fmt: skip
    weak = sealtrail("user", "password", "admin", home=tmp_path,
                     extra_env={"SEALTRAIL_PASSWORD": one_time,
                                "SEALTRAIL_NEW_PASSWORD": "short"})  # fmt: skip
    common = sealtrail("user", "password", "admin", home=tmp_path,
                       extra_env={"SEALTRAIL_PASSWORD": one_time,
                                  "SEALTRAIL_NEW_PASSWORD": "Password1234!"})  # fmt: skip
    changed = sealtrail("user", "password", "admin", home=tmp_path,
                        extra_env={"SEALTRAIL_PASSWORD": one_time,
                                   "SEALTRAIL_NEW_PASSWORD": ADMIN_PASSWORD})  # fmt: skip

    assert refused.returncode == 1
    assert "Password change required" in one_line(refused)
    assert weak.returncode == 1 and "Password rejected" in one_line(weak)
    assert common.returncode == 1 and "common password" in one_line(common)
    assert changed.returncode == 0, changed.stderr
