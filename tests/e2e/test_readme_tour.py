"""The README's five-minute tour, run word for word against a real gunicorn server.

The shell blocks are read out of README.md itself, so the tour cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def blocks_of(heading: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def tour_blocks() -> list[str]:
    return blocks_of("A five-minute tour")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("the server exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 30 s")


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_readme_tour_works_word_for_word(tmp_path: Path) -> None:
    blocks = tour_blocks()
    auditor = blocks_of("An auditor's session")
    assert len(blocks) == 5, "the tour has five steps"
    assert len(auditor) == 4, "the auditor's session has four blocks"
    packet = blocks_of("A sponsor's packet")
    assert len(packet) == 3, "the sponsor's packet has three blocks"
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env["PATH"] = f"{VENV_BIN}:{env['PATH']}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # What `make run` does before it serves; the reader copies admin's one-time password.
    for command in ("init", "demo", "verify"):
        done = bash(f"sealtrail {command}", tmp_path, env)
        assert done.returncode == 0, done.stderr
        if command == "init":
            env["ADMIN_ONE_TIME_PASSWORD"] = done.stdout.split("one-time password: ")[1].split()[0]
    server = subprocess.Popen(
        ["sealtrail", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"{base}/openapi.json", server)
        steps_1_to_4 = "\n".join(blocks[:4]).replace("http://127.0.0.1:8000", base)
        done = bash(steps_1_to_4, tmp_path, env)
        assert done.returncode == 0, done.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert '"subject": "RP-10"' in done.stdout  # the receipt
    assert '"subject":"RP-10"' in done.stdout and '"status":"screened"' in done.stdout
    assert '"printed_name":"Ana Souza"' in done.stdout  # the history's signature manifestation
    assert "OK: 1374 events checked, 0 findings" in done.stdout

    audit = bash("\n".join(auditor), tmp_path, env)

    assert audit.returncode == 0, audit.stderr
    assert "Subjects enrolled" in audit.stdout and "SYNTHETIC" in audit.stdout
    before, after = [line for line in audit.stdout.splitlines() if "latest_blood_count" in line]
    assert '"value": "76"' in before and '"value": "7.6"' in after
    assert "decimal point omitted" in audit.stdout  # the correction's reason, in the CSV row
    assert (tmp_path / "RP-02-audit.pdf").read_bytes().startswith(b"%PDF")

    built = bash("\n".join(packet[:2]), tmp_path, env)

    assert built.returncode == 0, built.stderr
    # the tour's 1374, and the auditor's and the data manager's accounts (5 events each)
    assert "packet verified: 1384 events, 50 files, tree size 1384" in built.stdout

    changed = bash(packet[2], tmp_path, env)

    assert changed.returncode == 1
    lines = changed.stdout.splitlines()
    assert lines[0].startswith("datasets/LB.csv: file-altered: its SHA-256 is ")
    assert lines[1].startswith("datasets/LB.csv: derived-mismatch: does not agree with the events")
    assert lines[2].startswith("packet FAILED: 2 findings; 1384 events, 50 files, tree size 1384")

    tampered = bash(blocks[4], tmp_path, env)

    assert tampered.returncode == 1
    assert tampered.stdout.splitlines()[0].startswith(
        "position 34: NCT01297972/RP-01 version 14: signature-invalid"
    )
    assert "position 35: NCT01297972/RP-01 version 15: chain-broken" in tampered.stdout
    assert "position 34: NCT01297972/RP-01 version 14: leaf-mismatch" in tampered.stdout
    assert "log: checkpoint-mismatch: stored checkpoint of size 1029" in tampered.stdout
    # sealed for the auditor's signed PDF, and for the packet
    assert "log: checkpoint-mismatch: stored checkpoint of size 1379" in tampered.stdout
    assert "log: checkpoint-mismatch: stored checkpoint of size 1384" in tampered.stdout
    assert "FAILED: 1384 events checked, 6 findings" in tampered.stdout
