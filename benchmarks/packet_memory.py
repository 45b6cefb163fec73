"""Peak memory of ``packet build`` and ``packet verify`` (issue 15, point 12; issue 21, point 4).

Each packet is first built (``build_packet(store, documents=False)``) in a process of its own,
whose peak resident set is printed against a baseline process that opens the same store and
imports the builder, and against the log's events: the build reads the log a page at a time
and spools its events and proofs to disk, but holds the events it derives the datasets and
reports from (docs/benchmarks-packet.md).

Two packets, each verified (``verify_packet(data, redraw_documents=False)``) in a process of its
own, whose peak resident set (``VmHWM`` in ``/proc/self/status``, as the process ends: unlike
``ru_maxrss`` it does not count what the forking parent held) is compared with the **baseline**:
a process that imports the verifier and reads the same zip, and does nothing else, in the same
run. What verification adds is the difference; it is printed against the zip's size and the
largest file's. A third process per packet runs the verification under ``tracemalloc`` and
prints its peak (Python's own allocations, zlib's included, without the interpreter's).

- **demonstration**: the demonstration cohort's packet without its PDFs (``sealtrail init``,
  ``sealtrail demo``, then ``build_packet(store, documents=False)`` in a process of its own, as
  ``benchmarks/packet.py`` builds its packet): 1,365 events, about 0.9 MB, unpacking to 12
  times that;
- **near the bound**: a crafted zip of one entry that unpacks to ``--crafted`` MiB (100 by
  default) of text that deflates 48 times (1 KiB of random bytes, then 55,000 zero bytes, over
  and over: from a fixed seed), just under the 50 times a packet may unpack to
  (``archive.MAX_INFLATION``). It is no packet (no manifest, no events): verify reports as much,
  after it has read every entry as it reads a packet's;
- with ``--events N``, also **a large log**: the packet (no PDFs) of a store of N signed events
  built as ``benchmarks/packet.py`` builds its own (``benchmarks/verify.py``'s subjects of 1,000
  events).

Run: ``.venv/bin/python benchmarks/packet_memory.py`` (about half a minute), ``--events 20000``
(a few minutes more).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the tests' crafted zip

import verify as bench_verify

from infrastructure.bootstrap import open_store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.settings import Settings
from tests.packets.zips import zip_near_the_bound

CHILD = """
import sys, tracemalloc
from pathlib import Path
from infrastructure.packets.verify import verify_packet
data = Path(sys.argv[2]).read_bytes()
if sys.argv[1] == "traced":
    tracemalloc.start()
if sys.argv[1] != "baseline":
    report = verify_packet(data, redraw_documents=False)
peak = tracemalloc.get_traced_memory()[1] if sys.argv[1] == "traced" else 0
status = Path("/proc/self/status").read_text()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024, peak)
"""
"""What each child process runs: ``baseline``, ``verify`` or ``traced`` on the zip at argv[2]."""

BUILD_CHILD = """
import sys
from pathlib import Path
from infrastructure.bootstrap import open_store
from infrastructure.packets.build import build_packet
from infrastructure.settings import Settings
home = Path(sys.argv[2])
store = open_store(Settings.from_environ({
    "SEALTRAIL_HOME": str(home),
    "SEALTRAIL_DATABASE_URL": f"sqlite:///{home / 'store.sqlite3'}",
}))
size = store.app.recorder.max_notification_id()
if sys.argv[1] == "build":
    Path(sys.argv[3]).write_bytes(build_packet(store, documents=False))
store.close()
status = Path("/proc/self/status").read_text()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024, size)
"""
"""What each build child runs: ``baseline`` or ``build`` of the store at argv[2], the zip
written to argv[3]; it prints its peak resident set and the log's length."""

ROOT = Path(__file__).resolve().parent.parent
SEALTRAIL = Path(sys.executable).parent / "sealtrail"


def child(mode: str, packet: Path, script: str = CHILD, *more: str) -> tuple[int, int]:
    """Run ``script`` (a verify child by default) in ``mode`` on ``packet``: the two figures it
    prints (its peak resident set, then its tracemalloc peak or the log's length)."""
    done = subprocess.run(
        [sys.executable, "-c", script, mode, *more, str(packet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {mode} process failed: {done.stderr}")
    resident, traced = done.stdout.split()
    return int(resident), int(traced)


def built(name: str, home: Path, directory: Path) -> bytes:
    """The packet of the store at ``home`` built in a process of its own; its peak resident
    set printed against the baseline's, and against the log's events."""

    def run(mode: str, packet: Path) -> tuple[int, int]:
        return child(mode, packet, BUILD_CHILD, str(home))

    packet = directory / f"built-{name.replace(' ', '-')}.zip"
    baseline, events = run("baseline", packet)
    started = time.perf_counter()
    building, _ = run("build", packet)
    seconds = time.perf_counter() - started
    added = building - baseline
    mb = 1e6
    print(
        f"\n{name}, built: {events:,} events in {seconds:.1f} s ({events / seconds:,.0f} events/s,"
        " with the process's start)"
    )
    print(f"  baseline (imports, store open): peak RSS {baseline / mb:7.1f} MB")
    print(f"  build:                          peak RSS {building / mb:7.1f} MB")
    print(f"  build adds {added / mb:.1f} MB: {added / events / 1024:.1f} KiB an event")
    data = packet.read_bytes()
    packet.unlink()
    return data


def demonstration_store(home: Path) -> Path:
    """A new store under home holding the demonstration cohort, its sponsor's key opened."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env["SEALTRAIL_HOME"] = str(home)
    env["SEALTRAIL_DATABASE_URL"] = f"sqlite:///{home / 'store.sqlite3'}"
    for command in ("init", "demo"):
        subprocess.run(
            [str(SEALTRAIL), command], env=env, check=True, capture_output=True, cwd=ROOT
        )
    store = open_store(Settings.from_environ(env))
    try:
        open_sponsor_account(store.administration, store.settings)
    finally:
        store.close()
    return home


def large_log_store(home: Path, events: int) -> Path:
    """A store of ``events`` events built as benchmarks/packet.py builds its own, its sponsor's
    key opened."""
    bench = bench_verify.prepare(home, 1000)
    bench_verify.fill(bench, events, 100, os.cpu_count() or 1)
    store = open_store(bench.settings)
    try:
        open_sponsor_account(store.administration, store.settings)
    finally:
        store.close()
    return home


def measure(name: str, data: bytes, directory: Path) -> None:
    packet = directory / f"{name.replace(' ', '-')}.zip"
    packet.write_bytes(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sizes = [info.file_size for info in archive.infolist()]
    baseline, _ = child("baseline", packet)
    verifying, _ = child("verify", packet)
    _, traced = child("traced", packet)
    added = verifying - baseline
    mb = 1e6
    print(
        f"\n{name}: zip {len(data) / mb:.2f} MB, unpacks to {sum(sizes) / mb:.1f} MB "
        f"({sum(sizes) / len(data):.0f} times), largest file {max(sizes) / mb:.1f} MB"
    )
    print(f"  baseline (imports, zip read):  peak RSS {baseline / mb:7.1f} MB")
    print(f"  verify:                        peak RSS {verifying / mb:7.1f} MB")
    print(
        f"  verify adds {added / mb:.1f} MB: {added / len(data):.1f} times the zip, "
        f"{added / max(sizes):.1f} times the largest file"
    )
    print(
        f"  tracemalloc peak of verify:    {traced / mb:7.1f} MB: {traced / len(data):.1f} times "
        f"the zip, {traced / max(sizes):.1f} times the largest file"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crafted", type=int, default=100, help="MiB the crafted zip unpacks to")
    parser.add_argument("--events", type=int, help="also the packet of a log of this many events")
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="bench-packet-memory-"))
    try:
        home = directory / "store"
        home.mkdir()
        demonstration = built("demonstration", demonstration_store(home), directory)
        measure("demonstration", demonstration, directory)
        measure("near the bound", zip_near_the_bound(args.crafted * 1024**2), directory)
        if args.events:
            name = f"a log of {args.events:,} events"
            packet = built(name, large_log_store(directory / "large", args.events), directory)
            measure(f"a log of {args.events:,} events", packet, directory)
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
