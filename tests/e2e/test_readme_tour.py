"""README.md, run as a reader runs it: every ``sh`` block in document order, in one terminal's
state, on a fresh store served by a real gunicorn; each output compared with the ``text`` blocks
after it, and every figure the prose quotes compared with what the commands printed.

Nothing expected is copied here: the blocks, the outputs and the figures are read out of
README.md, so a README that drifts from what the commands do fails this test.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
README = ROOT / "README.md"
SERVED_AT = "http://127.0.0.1:8000"


# -- reading the README ------------------------------------------------------------------------


@dataclass
class Block:
    """A ``sh`` block, the prose before it, and what the README says it prints."""

    code: str
    before: str
    after: str = ""
    expected: list[list[str]] = field(default_factory=list)
    """Each ``text`` block after it (before the next ``sh`` block), as lines."""

    @property
    def exit_status(self) -> int:
        said = re.search(r"exits with status (\d)", self.after)
        return int(said[1]) if said else 0


def readme_blocks(text: str) -> list[Block]:
    """Every ``sh`` block in document order, with its prose and expected outputs."""
    blocks: list[Block] = []
    prose_from = 0
    for fence in re.finditer(r"^```(sh|text)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL):
        prose = text[prose_from : fence.start()]
        prose_from = fence.end()
        if fence[1] == "sh":
            if blocks:
                blocks[-1].after += prose
            blocks.append(Block(code=fence[2], before=prose))
        else:
            assert blocks, "a text block before any sh block"
            blocks[-1].after += prose
            blocks[-1].expected.append(fence[2].rstrip("\n").split("\n"))
    if blocks:
        blocks[-1].after += text[prose_from:]
    return blocks


def figure(pattern: str, text: str) -> re.Match[str]:
    """A figure the README quotes, found by the words around it."""
    found = re.search(pattern, text, flags=re.DOTALL)
    assert found is not None, f"the README no longer says {pattern!r}"
    return found


def number(text: str) -> int:
    return int(text.replace(",", ""))


# -- comparing outputs -------------------------------------------------------------------------


def _pattern(line: str) -> re.Pattern[str]:
    """A README output line: ``...`` stands for anything; runs of spaces for any run."""
    words = " ".join(line.split())
    return re.compile(".*".join(re.escape(part) for part in words.split("...")))


def find_lines(expected: list[str], printed: list[str], start: int) -> int:
    """Where ``expected`` appears, line for line, in ``printed`` at or after ``start``; the
    line after it. Fails naming the first expected line that never appears."""
    patterns = [_pattern(line) for line in expected]
    squeezed = [" ".join(line.split()) for line in printed]
    for at in range(start, len(printed) - len(expected) + 1):
        if all(p.fullmatch(squeezed[at + n]) for n, p in enumerate(patterns)):
            return at + len(expected)
    missing = next(
        (
            line
            for line, p in zip(expected, patterns, strict=True)
            if not any(p.fullmatch(s) for s in squeezed[start:])
        ),
        expected[0],
    )
    raise AssertionError(
        f"the README says the block prints\n{chr(10).join(expected)}\n"
        f"but it printed\n{chr(10).join(printed)}\n(first line not found: {missing!r})"
    )


# -- one terminal --------------------------------------------------------------------------------


class Terminal:
    """The reader's second terminal: each block runs in the variables and folder the blocks
    before it left, as pasting them one after another into one shell would."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.state = folder / ".readme-terminal"
        self.state.mkdir()
        (self.state / "cwd").write_text(str(folder))
        (self.state / "variables").write_text("")

    def run(self, code: str) -> subprocess.CompletedProcess[str]:
        script = (
            "set -euo pipefail\n"
            f'cd "$(cat {self.state}/cwd)"\n'
            f"source {self.state}/variables\n"
            f"trap 'declare -px > {self.state}/variables; pwd > {self.state}/cwd' EXIT\n" + code
        )
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("the server exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 60 s")


def events_in(database: Path) -> int:
    with sqlite3.connect(database) as store:
        (count,) = store.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    return int(count)


def logins_in(database: Path) -> int:
    """The events of the authentication log: every password checked is one."""
    return events_of(database, "domain.authentication:%")


def copies_in(database: Path) -> int:
    """The events of the disclosure log: every copy of data handed out is one."""
    return events_of(database, "domain.disclosure:%")


def events_of(database: Path, topics: str) -> int:
    with sqlite3.connect(database) as store:
        (count,) = store.execute(
            "SELECT COUNT(*) FROM stored_events WHERE topic LIKE ?", (topics,)
        ).fetchone()
    return int(count)


def outcome_rows(printed: str) -> dict[str, tuple[str, str]]:
    """``report outcomes``' table: measure -> (computed, published)."""
    rows = {}
    for line in printed.splitlines():
        row = re.fullmatch(r"(\S.*?)\s{2,}(\S+)\s{2}(\S.*?)\s{2,}\d+ records", line)
        if row:
            rows[row[1]] = (row[2], row[3])
    return rows


# -- the test ------------------------------------------------------------------------------------


def test_the_readme_names_no_file_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")

    assert "CONTRACT.md" not in text
    assert re.search(r"(?<!\.)\.\./", text) is None  # nothing above the repository's folder
    for name in set(re.findall(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b", text)):
        assert (ROOT / name).exists(), f"README.md names {name}, which the repository lacks"
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), f"README.md links to {link}"


@pytest.mark.slow
def test_every_block_of_the_readme_prints_what_the_readme_says(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    blocks = readme_blocks(text)
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env["PATH"] = f"{VENV_BIN}:{env['PATH']}"
    database = tmp_path / "var" / "sealtrail.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # What `make run` does before it serves; the reader copies admin's one-time password.
    counted: dict[str, int] = {}
    for command in ("init", "demo", "verify"):
        done = subprocess.run(
            ["sealtrail", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        counted[command] = events_in(database)
        counted[f"copies after {command}"] = copies_in(database)
        if command == "init":
            env["ADMIN_ONE_TIME_PASSWORD"] = done.stdout.split("one-time password: ")[1].split()[0]
        if command == "demo":
            demo_records = number(figure(r"loaded: ([\d,]+) new events", done.stdout)[1])
    terminal = Terminal(tmp_path, env)

    def serve() -> subprocess.Popen[bytes]:
        """`make run`'s last step in the first terminal, on the store in ./var."""
        started = subprocess.Popen(
            ["sealtrail", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_serving(f"{base}/openapi.json", started)
        except AssertionError:
            started.terminate()
            started.wait(timeout=60)
            raise
        return started

    server: subprocess.Popen[bytes] | None = None
    printed: list[str] = []
    try:
        server = serve()
        for n, block in enumerate(blocks):
            if server is not None and re.search(r"\bstop the server\b", block.before, re.I):
                server.terminate()  # Ctrl-C in the first terminal
                server.wait(timeout=60)
                server = None
            if server is None and re.search(r"\bstart the server again\b", block.before, re.I):
                server = serve()  # `make run` again in the first terminal
            done = terminal.run(block.code.replace(SERVED_AT, base))
            printed.append(done.stdout)
            counted[f"block {n}"] = events_in(database)
            counted[f"logins {n}"] = logins_in(database)
            counted[f"copies {n}"] = copies_in(database)
            where = f"block {n}:\n{block.code}"
            assert done.returncode == block.exit_status, f"{where}\n{done.stdout}\n{done.stderr}"
            at = 0
            for expected in block.expected:
                at = find_lines(expected, done.stdout.splitlines(), at)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)

    def output_of(code: str) -> str:
        (index,) = [n for n, block in enumerate(blocks) if code in block.code]
        return printed[index]

    def events_after(code: str) -> int:
        (index,) = [n for n, block in enumerate(blocks) if code in block.code]
        return counted[f"block {index}"]

    def records_after(code: str) -> int:
        """The events after the block, less the server's own logs' (authentication, copies)."""
        (index,) = [n for n, block in enumerate(blocks) if code in block.code]
        return counted[f"block {index}"] - counted[f"logins {index}"] - counted[f"copies {index}"]

    def copies_after(code: str) -> int:
        (index,) = [n for n, block in enumerate(blocks) if code in block.code]
        return counted[f"copies {index}"]

    # The tour's total, and what it is made of, as step 4 counts it.
    tour = figure(r"```text\nOK: ([\d,]+) events checked, 0 findings\n```", text)
    parts = figure(
        r"(\d+) from `init`.*?(\d+)\s+for the demonstration's four synthetic staff accounts"
        r"(?:\s+\([^)]*\))?, "
        r"([\d,]+) events that load the nine synthetic\s+subjects' records.*?, "
        r"(\d+) account changes in step 1 and "
        r"the\s+screening of step 2, and (\d+) events of the\s+server's own logs: (\d+) of the "
        r"authentication\s+log.*?and (\d+) of the\s+disclosure log",
        text,
    )
    assert number(parts[1]) == counted["init"]
    assert number(parts[3]) == demo_records
    assert number(parts[2]) == counted["demo"] - counted["init"] - demo_records
    # init and demo check no password: every login of the tour is in steps 1-3. The demo hands
    # its investigator the site's copy: the disclosure log's events before the tour's own.
    demo_copies = counted["copies after demo"]
    step_1 = records_after("sealtrail user password coord1")
    assert number(parts[4]) == step_1 - (counted["demo"] - demo_copies)
    assert records_after("coord1.pem screening.json") - step_1 == 1  # the screening
    assert records_after("/v1/auth/token") == records_after("coord1.pem screening.json")
    server_logs = events_after("/v1/auth/token") - records_after("/v1/auth/token")
    assert number(parts[5]) == server_logs - demo_copies
    assert number(parts[7]) == copies_after("/v1/auth/token") - demo_copies
    assert number(parts[6]) == number(parts[5]) - number(parts[7])
    assert number(tour[1]) == events_after("/v1/auth/token")

    # The outcome table: the figures the prose quotes are the computed and the published ones.
    quoted = figure(
        r"(\d+) enrolled; (\S+) infusions; doses median (\S+), range (\S+) x 10\^6 cells/kg; "
        r"no\s+infusion-related adverse event; (\d+) deaths; (\d+) partial and (\d+) complete "
        r"responses at month 6; no\s+engraftment; median follow-up (\d+) months",
        text,
    )
    table = outcome_rows(output_of("sealtrail report outcomes"))
    for measure, said in [
        ("Subjects enrolled", quoted[1]),
        ("MSC infusions per subject (range)", quoted[2]),
        ("MSC dose per infusion, median (10^6 cells/kg)", quoted[3]),
        ("MSC dose per infusion, range (10^6 cells/kg)", quoted[4]),
        ("Infusion-related adverse events (MSC related, or an infusion reaction)", "0"),
        ("Deaths", quoted[5]),
        ("Partial hematologic responses at month 6 (investigator)", quoted[6]),
        ("Complete hematologic responses at month 6 (investigator)", quoted[7]),
        ("MSC engraftment detected in marrow (FISH or VNTR)", "0"),
        ("Median follow-up from enrolment (months)", quoted[8]),
    ]:
        computed, published = table[measure]
        assert computed == said, f"{measure}: the README says {said}, the events give {computed}"
        if said != "0":  # "none at days 30, 90 or 180" is how the publication says no
            assert published == said, f"{measure}: the publication says {published}"

    # The correction the replay shows: its values and its log position.
    correction = figure(
        r"haemoglobin of (\S+) g/dL and\s+corrected to (\S+) \(a correction at log\s+"
        r"position (\d+)",
        text,
    )
    old, new, position = correction[1], correction[2], int(correction[3])
    (row,) = [
        fields
        for fields in csv.reader(output_of("grep ',corrected,'").splitlines())
        if "corrected" in fields
    ]
    assert int(row[0]) == position
    assert row[8].startswith(f"haemoglobin={old} g/dL") and row[9].startswith(
        f"haemoglobin={new} g/dL"
    )
    replayed = output_of("--position").splitlines()
    assert f'"value": "{old}"' in replayed[0] and f'"value": "{new}"' in replayed[1]
    positions = re.findall(
        r"--position (\d+)", next(b.code for b in blocks if "--position" in b.code)
    )
    assert [int(p) for p in positions] == [position - 1, position]

    # The packet holds the tour's events and two more accounts.
    assert number(figure(r"the tour's ([\d,]+) events and the auditor's", text)[1]) == number(
        tour[1]
    )

    # The scratch store: the note's size, quoted three times, and the three events cut off.
    note = output_of("sealtrail checkpoint > outside.note").splitlines()
    size = int(note[note.index(next(line for line in note if line.startswith("sealtrail."))) + 1])
    assert number(figure(r"its size \((\d+) events\)", text)[1]) == size
    assert number(figure(r"until it holds (\d+) events or more", text)[1]) == size
    assert number(figure(r"its first (\d+) events no longer hash", text)[1]) == size
    assert "delete the last three events" in text
    assert f"OK: {size - 3} events checked" in output_of('sqlite3.connect("scratch/store.sqlite3")')

    # The investigator's example signs records the demonstration has, and that may be signed.
    signed = figure(
        r"first adverse event \(entry (\d+)\) and its month-3 response assessment "
        r"\(entry (\d+)\).*?"
        r"--subject (\S+) --entry (\d+) --entry (\d+)",
        text,
    )
    assert (signed[1], signed[2]) == (signed[4], signed[5])
    from infrastructure.bootstrap import open_store
    from infrastructure.documents.reports import load_subject
    from tests.conftest import STUDY, make_settings

    store = open_store(make_settings(tmp_path / "var", f"sqlite:///{database}"))
    try:
        subject = load_subject(store, STUDY, signed[3])
    finally:
        store.close()
    adverse_event, response = subject.entries[int(signed[1])], subject.entries[int(signed[2])]
    assert (
        adverse_event.kind == "AdverseEventReported"
        and adverse_event.fields["adverse_event"] == "AE-01"
    )
    assert response.kind == "ResponseAssessed" and response.fields["month"] == 3
    for entry in (adverse_event, response):
        subject.check_signable(entry.version)
