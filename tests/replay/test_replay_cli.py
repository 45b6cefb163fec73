"""``sealtrail replay`` as a person runs it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.account import Role
from tests.conftest import console_env, reader_env
from tests.replay.conftest import SUBJECT, Corrected

SEALTRAIL = str(Path(sys.executable).parent / "sealtrail")


def sealtrail(
    corrected: Corrected, *args: str, person: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``sealtrail replay ARGS`` run by ``person`` (default: the subject's site coordinator)."""
    settings = corrected.store.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env.update(console_env(corrected.coordinator) if person is None else person)
    env["SEALTRAIL_HOME"] = str(settings.home)
    env["SEALTRAIL_DATABASE_URL"] = settings.database_url.render_as_string(hide_password=False)
    return subprocess.run(
        [SEALTRAIL, "replay", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.requirement("URS-replay-1")
def test_replay_as_of_a_time_prints_the_state_then_and_what_it_is_as_of(
    corrected_sqlite: Corrected,
) -> None:
    corrected = corrected_sqlite
    as_of = corrected.second_after("count")

    text = sealtrail(corrected, "--subject", SUBJECT, "--as-of", as_of)
    document = sealtrail(corrected, "--subject", SUBJECT, "--as-of", as_of, "--json")

    assert text.returncode == 0, text.stderr
    assert f"{SUBJECT} as it stood with every event recorded at or before" in text.stdout
    assert f"version 3, log position {corrected.position('count')}" in text.stdout
    assert document.returncode == 0, document.stderr
    replayed = json.loads(document.stdout)
    assert replayed["as_of"]["time"] == as_of.replace("Z", ".000000Z")
    assert replayed["as_of"]["last_event"]["version"] == 3
    assert replayed["summary"]["latest_blood_count"]["results"]["haemoglobin"]["value"] == "6.8"


def test_replay_as_of_a_date_counts_the_whole_day_in_utc(corrected_sqlite: Corrected) -> None:
    corrected = corrected_sqlite
    day = corrected.receipts["corrected"]["server_time"][:10]

    done = sealtrail(corrected, "--subject", SUBJECT, "--as-of", day, "--json")

    assert done.returncode == 0, done.stderr
    replayed = json.loads(done.stdout)
    assert replayed["as_of"]["time"] == f"{day}T23:59:59.999999Z"
    assert replayed["summary"]["latest_blood_count"]["results"]["haemoglobin"]["value"] == "8.6"


@pytest.mark.requirement("URS-replay-1")
def test_replay_as_of_a_position(corrected_sqlite: Corrected) -> None:
    corrected = corrected_sqlite
    position = str(corrected.position("consent"))

    done = sealtrail(corrected, "--subject", SUBJECT, "--position", position, "--json")

    assert done.returncode == 0, done.stderr
    replayed = json.loads(done.stdout)
    assert replayed["as_of"]["position"] == int(position)
    assert replayed["summary"]["status"] == "consented"
    assert replayed["summary"]["version"] == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--subject", SUBJECT], "give one of --as-of TIME or --position N"),
        (
            ["--subject", SUBJECT, "--as-of", "2011-03-01", "--position", "3"],
            "give one of --as-of TIME or --position N",
        ),
        (["--as-of", "2011-03-01"], "--subject is required"),
        (["--subject", SUBJECT, "--as-of", "yesterday"], "is not YYYY-MM-DDTHH:MM:SSZ"),
        (["--subject", SUBJECT, "--as-of", "2011-02-30"], "is not a real date"),
        (["--subject", SUBJECT, "--as-of", "2011-03-01T10:00:00"], "is not YYYY-MM-DDTHH"),
        (["--subject", SUBJECT, "--position", "0"], "is not a log position"),
        (["--subject", SUBJECT, "--position", "ten"], "is not a log position"),
        (["--subject", SUBJECT, "--position", str(2**64)], "is not a log position"),
        (["--subject", SUBJECT, "--position", "9" * 5000], "is not a log position"),
    ],
)
def test_wrong_usage_is_exit_2_and_one_line(
    screened_sqlite: Corrected, args: list[str], says: str
) -> None:
    done = sealtrail(screened_sqlite, *args)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr


def test_an_unknown_subject_or_a_time_before_it_existed_is_exit_1_and_one_line(
    corrected_sqlite: Corrected,
) -> None:
    corrected = corrected_sqlite
    unknown = sealtrail(corrected, "--subject", "RP-999", "--as-of", "2030-01-01")
    too_early = sealtrail(
        corrected, "--subject", SUBJECT, "--as-of", corrected.second_before("screened")
    )

    assert unknown.returncode == 1
    assert unknown.stderr == (
        "sealtrail: Subject not found: NCT01297972/RP-999 has not been screened\n"
    )
    assert too_early.returncode == 1
    assert too_early.stderr.count("\n") == 1
    assert "Subject not recorded yet: NCT01297972/RP-101 was first recorded at" in too_early.stderr


def test_an_auditor_replays_a_subject_of_any_site(corrected_sqlite: Corrected) -> None:
    corrected = corrected_sqlite
    auditor = reader_env(corrected.store, Role.AUDITOR)

    done = sealtrail(
        corrected,
        "--subject",
        SUBJECT,
        "--position",
        str(corrected.position("consent")),
        person=auditor,
    )

    assert done.returncode == 0, done.stderr
    assert f"{SUBJECT} as it stood" in done.stdout


NOT_SCREENED = f"sealtrail: Subject not found: NCT01297972/{SUBJECT} has not been screened\n"


@pytest.mark.parametrize(
    ("role", "sites", "says"),
    [
        (Role.SITE_COORDINATOR, ("SP",), NOT_SCREENED),
        (Role.MONITOR, ("SP",), NOT_SCREENED),
        (
            Role.ADMINISTRATOR,
            (),
            "sealtrail: Not permitted: an administrator does not read clinical data\n",
        ),
    ],
)
def test_a_person_who_may_not_read_the_subject_is_refused_with_exit_1_and_nothing_shown(
    corrected_sqlite: Corrected, role: Role, sites: tuple[str, ...], says: str
) -> None:
    corrected = corrected_sqlite
    person = reader_env(corrected.store, role, "other1", sites)

    done = sealtrail(
        corrected, "--subject", SUBJECT, "--as-of", corrected.second_after("count"), person=person
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == says


@pytest.mark.requirement("LGPD-46-1")
def test_another_sites_subject_answers_as_one_that_does_not_exist(
    corrected_sqlite: Corrected,
) -> None:
    corrected = corrected_sqlite
    person = reader_env(corrected.store, Role.MONITOR, "other1", ("SP",))
    asked = ("--as-of", corrected.second_after("count"))

    theirs = sealtrail(corrected, "--subject", SUBJECT, *asked, person=person)
    none = sealtrail(corrected, "--subject", "RP-999", *asked, person=person)

    assert theirs.returncode == none.returncode == 1
    assert theirs.stderr == none.stderr.replace("RP-999", SUBJECT)
    assert "'RP'" not in theirs.stderr


def test_a_wrong_password_is_refused_and_recorded_as_a_failed_console_login(
    corrected_sqlite: Corrected,
) -> None:
    corrected = corrected_sqlite
    user = corrected.coordinator.user_id

    done = sealtrail(
        corrected,
        "--subject",
        SUBJECT,
        "--position",
        "1",
        person={"SEALTRAIL_USER": user, "SEALTRAIL_PASSWORD": "not the password"},
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("sealtrail: Authentication failed:")
    last = corrected.store.access.attempts(user)[0]
    assert (last.channel, last.outcome) == ("console", "failed")


@pytest.mark.parametrize(
    ("person", "says"),
    [
        ({}, "Missing option '--as'"),
        ({"SEALTRAIL_USER": "coord1"}, "set SEALTRAIL_PASSWORD or run on a terminal"),
    ],
    ids=["no-person", "no-password"],
)
def test_replay_without_a_person_or_a_password_is_wrong_usage(
    corrected_sqlite: Corrected, person: dict[str, str], says: str
) -> None:
    done = sealtrail(corrected_sqlite, "--subject", SUBJECT, "--position", "1", person=person)

    assert done.returncode == 2
    assert done.stdout == ""
    assert says in done.stderr


def test_a_person_of_another_site_is_not_told_when_the_subject_was_first_recorded(
    corrected_sqlite: Corrected,
) -> None:
    corrected = corrected_sqlite
    person = reader_env(corrected.store, Role.MONITOR, "other1", ("SP",))

    done = sealtrail(
        corrected,
        "--subject",
        SUBJECT,
        "--as-of",
        corrected.second_before("screened"),
        person=person,
    )

    assert done.returncode == 1
    assert done.stderr == NOT_SCREENED


def test_a_subject_code_with_a_trailing_newline_names_no_subject(
    corrected_sqlite: Corrected,
) -> None:
    # "RP-101\n" is not a code: not the subject RP-101, and not a second subject beside it.
    auditor = reader_env(corrected_sqlite.store, Role.AUDITOR)
    asked = ("--as-of", corrected_sqlite.second_after("count"))

    done = sealtrail(corrected_sqlite, "--subject", f"{SUBJECT}\n", *asked, person=auditor)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("sealtrail: Subject not found: ")
    assert done.stderr.endswith("has not been screened\n")
