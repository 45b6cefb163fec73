"""Long commands say how far they have got when stderr is not a terminal too: one line every
``SEALTRAIL_PROGRESS_SECONDS`` (default 5), here set small so that seconds of work show lines."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from api.console.progress import DEFAULT_INTERVAL_SECONDS, Progress, interval_seconds
from infrastructure.bootstrap import open_store
from tests.cli_stores import DEMO_RECORDS, data_manager_at, sealtrail
from tests.conftest import make_settings, open_person
from tests.reports.conftest import RECORDS, SUBJECT

EVERY_TENTH_OF_A_SECOND = {"SEALTRAIL_PROGRESS_SECONDS": "0.1"}
LINE = re.compile(r"^(?P<label>[a-z ]+): (?P<doing>.+), (?P<seconds>\d+) s so far$")


def progress_lines(stderr: str, label: str) -> list[str]:
    """Every line of ``stderr`` but verify's notes (what it did not check, also on stderr), each
    of which must be a progress line of ``label``."""
    lines = [line for line in stderr.splitlines() if not line.startswith("note: ")]
    for line in lines:
        matched = LINE.match(line)
        assert matched is not None and matched["label"] == label, line
    return [str(LINE.match(line)["doing"]) for line in lines]  # type: ignore[index]


def counts(doing: list[str]) -> list[tuple[int, int]]:
    found = [re.search(r"(\d+) of (\d+) \(\d+%\)", line) for line in doing]
    return [(int(match[1]), int(match[2])) for match in found if match]


def test_demo_off_a_terminal_prints_how_many_records_it_has_loaded(home: Path) -> None:
    done = sealtrail("demo", home=home, extra_env=EVERY_TENTH_OF_A_SECOND)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("demonstration cohort loaded: ")  # stdout as it was
    loaded = counts(progress_lines(done.stderr, "demo"))
    assert len(loaded) >= 3, done.stderr
    assert {total for _, total in loaded} == {DEMO_RECORDS}
    assert [n for n, _ in loaded] == sorted(n for n, _ in loaded)  # it only goes forward


def test_verify_off_a_terminal_prints_how_many_events_it_has_checked(demo_home: Path) -> None:
    done = sealtrail("verify", home=demo_home, extra_env=EVERY_TENTH_OF_A_SECOND)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")
    doing = progress_lines(done.stderr, "verify")
    assert doing, "verify printed no progress"


def test_quick_commands_and_an_interval_of_0_print_nothing(demo_home: Path) -> None:
    off = sealtrail("verify", home=demo_home, extra_env={"SEALTRAIL_PROGRESS_SECONDS": "0"})

    assert off.returncode == 0
    assert [line for line in off.stderr.splitlines() if not line.startswith("note: ")] == []


def test_a_wrong_interval_is_one_line_and_exit_2(demo_home: Path) -> None:
    done = sealtrail("verify", home=demo_home, extra_env={"SEALTRAIL_PROGRESS_SECONDS": "soon"})

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("sealtrail: SEALTRAIL_PROGRESS_SECONDS='soon' is not a number")
    assert len(done.stderr.splitlines()) == 1


@pytest.fixture
def followed_home(home: Path) -> Path:
    """An initialised store holding one followed subject with a serious adverse event: its
    packet has every kind of PDF, drawn in a second or two (the demonstration's take half a
    minute, which the README's tour and the packet's console test already spend)."""
    store = open_store(make_settings(home))
    try:
        coordinator = open_person(store, "coord1")
        for kind, data in RECORDS:
            coordinator.record(store, SUBJECT, kind, data)
    finally:
        store.close()
    return home


def test_packet_build_and_verify_off_a_terminal_print_their_step_every_interval(
    followed_home: Path,
) -> None:
    packet = followed_home / "packet.zip"
    built = sealtrail(
        *("packet", "build", "--as", "dm1", "--out", str(packet)),
        home=followed_home,
        extra_env={**data_manager_at(followed_home), **EVERY_TENTH_OF_A_SECOND},
    )

    assert built.returncode == 0, built.stderr
    doing = progress_lines(built.stderr, "packet build")
    # Drawing the PDFs calls back nothing for a while; the timer still prints, many times.
    drawing = [line for line in doing if line.startswith("drawing ") and "PDFs" in line]
    assert len(drawing) >= 3, built.stderr

    checked = sealtrail(
        "packet", "verify", str(packet), home=followed_home, extra_env=EVERY_TENTH_OF_A_SECOND
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    steps = {line.split(",")[0] for line in progress_lines(checked.stderr, "packet verify")}
    assert any(step.startswith("drawing ") for step in steps), checked.stderr


def test_the_lines_come_every_interval_as_the_work_reports() -> None:
    """Off the main thread (no timer), the work's own reports bring the lines once due."""
    now = [0.0]
    stream = io.StringIO()
    shown = Progress("verify", stream=stream, interval=5, clock=lambda: now[0])
    shown.count_to(1000)

    for _ in range(10):
        now[0] += 1.0
        shown.advance(100)

    assert stream.getvalue().splitlines() == [
        "verify: 500 of 1000 (50%), 5 s so far",
        "verify: 1000 of 1000 (100%), 10 s so far",
    ]


def test_the_interval_is_5_seconds_unless_set() -> None:
    assert interval_seconds({}) == DEFAULT_INTERVAL_SECONDS == 5
    assert interval_seconds({"SEALTRAIL_PROGRESS_SECONDS": "0.5"}) == 0.5
    assert interval_seconds({"SEALTRAIL_PROGRESS_SECONDS": "0"}) == 0
