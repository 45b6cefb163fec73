"""Peak memory of ``packet verify`` against the packet's size (issue 15, point 12).

Two packets, each verified (``verify_packet(data, redraw_documents=False)``) in a process of its
own, whose peak resident set (``VmHWM`` in ``/proc/self/status``, as the process ends: unlike
``ru_maxrss`` it does not count what the forking parent held) is compared with the **baseline**:
a process that imports the verifier and reads the same zip, and does nothing else, in the same
run. What verification adds is the difference; it is printed against the zip's size and the
largest file's. A third process per packet runs the verification under ``tracemalloc`` and
prints its peak (Python's own allocations, zlib's included, without the interpreter's).

- **demonstration**: the demonstration cohort's packet without its PDFs (``sealtrail init``,
  ``sealtrail demo``, then ``build_packet(store, documents=False)`` in this process, as
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
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the tests' crafted zip

import verify as bench_verify

from infrastructure.bootstrap import open_store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
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

ROOT = Path(__file__).resolve().parent.parent
SEALTRAIL = Path(sys.executable).parent / "sealtrail"


def child(mode: str, packet: Path) -> tuple[int, int]:
    """Run the child in ``mode``: its peak resident set and its tracemalloc peak, in bytes."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(packet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {mode} process failed: {done.stderr}")
    resident, traced = done.stdout.split()
    return int(resident), int(traced)


def demonstration_packet(home: Path) -> bytes:
    """The demonstration cohort's packet without its PDFs, built in a new store under home."""
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
        return build_packet(store, documents=False)
    finally:
        store.close()


def large_log_packet(home: Path, events: int) -> bytes:
    """The packet, without PDFs, of a store of ``events`` events built as benchmarks/packet.py
    builds its own."""
    bench = bench_verify.prepare(home, 1000)
    bench_verify.fill(bench, events, 100, os.cpu_count() or 1)
    store = open_store(bench.settings)
    try:
        open_sponsor_account(store.administration, store.settings)
        return build_packet(store, documents=False)
    finally:
        store.close()


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
        measure("demonstration", demonstration_packet(home), directory)
        measure("near the bound", zip_near_the_bound(args.crafted * 1024**2), directory)
        if args.events:
            packet = large_log_packet(directory / "large", args.events)
            measure(f"a log of {args.events:,} events", packet, directory)
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
