"""A packet built before a record kind was declared still verifies with today's code."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.packets.test_packet_cli import offline

FIXTURE = Path(__file__).parent.parent / "fixtures" / "packet-before-performance-status"


def test_a_packet_built_before_performance_status_verifies_offline(tmp_path: Path) -> None:
    # Its ODM file and data dictionary describe none of PerformanceStatusRecorded, which its
    # log never records (Record.DESCRIBED_WHEN_RECORDED).
    shutil.copy(FIXTURE / "packet.zip", tmp_path / "packet.zip")

    verified = offline("packet", "verify", "packet.zip", "--no-documents", cwd=tmp_path)

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("packet verified: 1378 events, 33 files, tree size 1378")
    # Its ODM's LegalReason is the wording of its day, since withdrawn (issue 22, point 8).
    assert "LegalReason is an earlier version's wording" in verified.stderr
