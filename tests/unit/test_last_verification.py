"""The last verification kept in the home for the pages: written whole, read back, and neither
a home that cannot be written nor a damaged record stops anything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infrastructure.identity.server_key import PRIVATE_KEY_FILE
from infrastructure.settings import Settings
from infrastructure.verification.last_run import (
    FINDINGS_KEPT,
    LAST_RUN_FILE,
    last_verification,
    record_verification,
)
from infrastructure.verification.log_checks import Finding
from infrastructure.verification.verifier import VerificationReport

AT = datetime(2026, 12, 4, 12, 30, tzinfo=UTC)


def settings_at(home: Path) -> Settings:
    return Settings.from_environ({"SEALTRAIL_HOME": str(home)})


def servers_home(home: Path) -> Settings:
    """A home holding the server's private key (the file is all the record asks of it)."""
    (home / "keys").mkdir(parents=True)
    (home / "keys" / PRIVATE_KEY_FILE).write_text("the server's key", encoding="utf-8")
    return settings_at(home)


def finding(n: int) -> Finding:
    return Finding(n, "NCT01297972/RP-101", 2, "signature", f"finding {n}")


def test_a_verification_is_read_back_as_recorded(tmp_path: Path) -> None:
    report = VerificationReport(events=1459, findings=[finding(n) for n in range(30)])

    assert record_verification(servers_home(tmp_path), report, at=AT)
    kept = last_verification(settings_at(tmp_path))

    assert kept is not None
    assert (kept.verified_at, kept.events, kept.finding_count, kept.ok) == (AT, 1459, 30, False)
    assert [f["detail"] for f in kept.findings] == [f"finding {n}" for n in range(FINDINGS_KEPT)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys", LAST_RUN_FILE]  # no draft


def test_an_auditors_home_without_the_servers_private_key_is_left_as_it_was(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys").mkdir()

    assert not record_verification(settings_at(tmp_path), VerificationReport(10, []), at=AT)
    assert [p.name for p in tmp_path.iterdir()] == ["keys"]


def test_no_record_or_a_damaged_one_reads_as_none(tmp_path: Path) -> None:
    assert last_verification(settings_at(tmp_path)) is None
    (tmp_path / LAST_RUN_FILE).write_text('{"verified_at": "yesterday"', encoding="utf-8")
    assert last_verification(settings_at(tmp_path)) is None


def test_a_record_that_cannot_be_written_is_not_written_and_leaves_no_draft(
    tmp_path: Path,
) -> None:
    home = servers_home(tmp_path)
    (tmp_path / LAST_RUN_FILE).mkdir()  # the record's place is taken (even root cannot write)

    assert not record_verification(home, VerificationReport(12, []))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys", LAST_RUN_FILE]
    assert last_verification(home) is None
