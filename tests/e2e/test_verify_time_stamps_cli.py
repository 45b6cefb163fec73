"""``sealtrail checkpoint`` and ``sealtrail verify`` with and without a time-stamping authority:
what is not checked is a note on stderr (``notes`` in ``--json``); a bad setting is one line and
exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_stores import sealtrail
from tests.tsa import LocalAuthority


def test_verify_says_as_a_note_on_stderr_that_no_checkpoint_is_time_stamped(home: Path) -> None:
    assert sealtrail("checkpoint", home=home).returncode == 0

    text = sealtrail("verify", home=home)
    document = json.loads(sealtrail("verify", "--json", home=home).stdout)

    assert text.returncode == 0
    assert text.stdout.splitlines()[-1].startswith("OK: ")
    assert "note: " not in text.stdout
    assert "note: 1 of 1 checkpoints carry no time-stamp" in text.stderr
    assert document["ok"] is True
    assert any("carry no time-stamp" in note for note in document["notes"])


def test_a_checkpoint_sealed_at_the_console_is_stamped_and_verify_checks_it(
    home: Path, authority: LocalAuthority
) -> None:
    tsa = {"SEALTRAIL_TSA_URL": authority.url, "SEALTRAIL_TSA_CERTS": str(authority.root_pem)}

    sealed = sealtrail("checkpoint", home=home, extra_env=tsa)
    document = json.loads(sealtrail("verify", "--json", home=home, extra_env=tsa).stdout)

    assert sealed.returncode == 0
    assert len(authority.stamped) == 1
    assert document["ok"] is True
    assert document["notes"] == [], document["notes"]


def test_a_certificate_file_that_is_not_there_is_one_line_and_exit_2(home: Path) -> None:
    missing = {"SEALTRAIL_TSA_CERTS": str(home / "missing.pem")}

    done = sealtrail("verify", home=home, extra_env=missing)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "SEALTRAIL_TSA_CERTS" in done.stderr and "missing.pem" in done.stderr


def test_an_authority_without_certificates_to_trust_is_one_line_and_exit_2(home: Path) -> None:
    done = sealtrail(
        "checkpoint", home=home, extra_env={"SEALTRAIL_TSA_URL": "http://127.0.0.1:9/"}
    )

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "SEALTRAIL_TSA_CERTS" in done.stderr
