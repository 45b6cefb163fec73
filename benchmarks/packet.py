"""Building and verifying a submission packet of a large log (issue 7, point 5).

A SQLite store of ``--events`` events (100,000 by default) is built as ``benchmarks/verify.py``
builds its store (every event signed for real and stored through the sealed event store), the
sponsor's packet key is opened as ``sealtrail init`` does, and then, in this one process:

- **build**: ``build_packet(store, documents=False)``: the log read and checked against its
  checkpoint, every event's line and inclusion proof, the derived files (keys, SDTM-shaped
  datasets, CDISC ODM with its schema check, the audit trail in CSV and JSON, the CONEP reports
  in JSON), the signed manifest and the zip. PDFs are left out: drawing every subject's chart
  and every audit row of 100,000 events takes minutes (docs/benchmarks-packet.md gives the
  demonstration cohort's figures with them);
- **verify**: ``verify_packet(data)``, offline, timed in its two phases: the *evidence*
  (manifest digests, checkpoint, every event decoded, attributed with the key valid then and its
  Ed25519 signature checked, chains, leaves and every inclusion proof) and the *derived files*
  (all of them computed again from the events and compared byte for byte);
- **raw Ed25519**: the same events' signatures verified with PyNaCl (libsodium), one process,
  the verify keys made beforehand: the floor any verifier of these signatures pays.

The ratio printed is verify events/s over raw Ed25519 verifications/s of the same events in
the same run, single process both. Goal (issue 7): >= 0.7. Issue 21's goals are printed after
it: the build's events/s (goal >= 2,500), verify's rate against the floor's below (goal >= 0.5,
so at most twice the floor's time an event), and each phase's peak resident set (``VmHWM``,
started again before each phase by Linux's ``clear_refs``). Beside it, the derived files'
recomputation part by part, and the **floor** of any verifier that checks them: every event
line read once and every derived file read or written once, whichever is cheaper, by the
fastest library at hand (:func:`serialization_floor`), which bounds the ratio of any such
verifier whatever its design. The load averages are printed: other work on the machine skews
every figure.

Run: ``.venv/bin/python benchmarks/packet.py`` (several minutes on two cores), or
``--events 20000`` for a quick run; ``--store PATH`` keeps the built store for a later run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parent))

import verify as bench_verify

from infrastructure.bootstrap import open_store
from infrastructure.garbage_collector import YOUNG_GENERATION_THRESHOLD, collect_young_less_often
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from signatures.authorship import decode_signature
from signatures.keys import public_key_from_text, raw_public_key

GOAL = 0.7
"""Issue 7's goal: verify against raw Ed25519."""
BUILD_GOAL = 2_500
"""Issue 21's goal: events a second of a build of 100,000 events."""
FLOOR_GOAL = 0.5
"""Issue 21's goal: verify's rate against the floor's (Ed25519 and each file read or written
once), so at most twice the floor's time an event."""

DERIVED_PARTS = {
    "derived files": "subjects folded, keys file",
    "CONEP reports": "CONEP reports, README, comparing",
}
"""What the verifier does between one progress stage and the next, where its name says less."""


class Stages:
    """When each stage of a verification began (the verifier names its stages as it goes)."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, stage: str) -> None:
        self.marks.append((stage, time.perf_counter()))

    def seconds(self, first: str, then: str | None, end: float) -> float:
        starts = dict(self.marks)
        return (starts[then] if then else end) - starts[first]

    def derived_parts(self, end: float) -> list[tuple[str, float]]:
        """Each part of the derived files' recomputation and its seconds, in order."""
        names = [name for name, _ in self.marks]
        parts = names[names.index("derived files") :]
        return [
            (DERIVED_PARTS.get(name, name), self.seconds(name, then, end))
            for name, then in zip(parts, [*parts[1:], None], strict=True)
        ]


def raw_rate(packet: bytes) -> tuple[int, float]:
    """Verify every event's signature of the packet with PyNaCl: (count, per second)."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        lines = archive.read("log/events.jsonl").decode().splitlines()
        keys_file = json.loads(archive.read("log/keys.json"))
    keys = {
        k["key_id"]: nacl.signing.VerifyKey(raw_public_key(public_key_from_text(k["public_key"])))
        for k in keys_file["keys"]
    }
    triples = []
    for line in lines:
        event = json.loads(line)
        key_id = json.loads(event["signed_body"])["key_id"]
        triples.append(
            (event["signed_body"].encode(), decode_signature(event["signature"]), keys[key_id])
        )
    started = time.perf_counter()
    for message, signature, key in triples:
        key.verify(message, signature)
    return len(triples), len(triples) / (time.perf_counter() - started)


def ratio_bound(raw: float, seconds_per_event: float) -> float:
    """The most a verifier reaches against raw Ed25519 (``raw`` verifications/s) when it
    spends ``seconds_per_event`` beside each signature check."""
    return (1 / raw) / (1 / raw + seconds_per_event)


def serialization_floor(packet: bytes) -> dict[str, float]:
    """Seconds the fastest parsers and writers at hand take over the packet's derived files.

    A verifier that checks the derived files against the events handles every one of them at
    least once: it writes what the events give (and compares bytes) or reads what the packet
    holds (and compares values). So, file by file, the cheaper of the two is timed, with the
    fastest library of each kind here, all written in C: lxml (libxml2; ``projections/odm/``
    writes with ElementTree, which is slower), ``csv``, and ``json`` (written compact, with its
    C encoder; the packet's JSON is indented, which is slower). Every event line is read once
    by ``json``, as any verifier of its signature and chain must. Whatever else a verifier does
    (decode the events, fold the subjects, work out each row), it pays at least this.
    """
    import csv
    import io
    import zipfile

    from lxml import etree  # installed with pyHanko: the fastest XML library here (libxml2)

    def cheaper(data: bytes, read: Callable[[bytes], Any], write: Callable[[Any], object]) -> float:
        started = time.perf_counter()
        value = read(data)
        reading = time.perf_counter() - started
        started = time.perf_counter()
        write(value)
        return min(reading, time.perf_counter() - started)

    floor = {
        "event lines read (json)": 0.0,
        "ODM (lxml)": 0.0,
        "CSV files (csv)": 0.0,
        "JSON files (json)": 0.0,
    }
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "log/events.jsonl":  # each line read once: there is no other way in
                started = time.perf_counter()
                for line in data.splitlines():
                    json.loads(line)
                floor["event lines read (json)"] += time.perf_counter() - started
            elif name.endswith(".xml"):
                floor["ODM (lxml)"] += cheaper(
                    data,
                    lambda xml: etree.fromstring(xml, etree.XMLParser(resolve_entities=False)),
                    lambda root: etree.tostring(root, encoding="unicode"),
                )
            elif name.endswith(".csv"):
                floor["CSV files (csv)"] += cheaper(
                    data,
                    lambda text: list(csv.reader(io.StringIO(text.decode("utf-8")))),
                    lambda rows: csv.writer(io.StringIO()).writerows(rows),
                )
            elif name.endswith(".json") and not name.startswith("log/"):
                floor["JSON files (json)"] += cheaper(
                    data, json.loads, lambda value: json.dumps(value, ensure_ascii=False)
                )
    return floor


VERIFY_ALONE = """
import sys
from pathlib import Path
from infrastructure.garbage_collector import collect_young_less_often
from infrastructure.packets.verify import verify_packet
collect_young_less_often()
report = verify_packet(Path(sys.argv[1]).read_bytes(), redraw_documents=False)
assert report.ok, report.findings[:5]
print(next(line for line in Path("/proc/self/status").read_text().splitlines()
           if line.startswith("VmHWM:")).split()[1])
"""


def verification_alone_peak(packet: bytes) -> int:
    """The peak resident set (KiB) of a process that verifies the packet and does nothing else:
    in this process, a verification's peak starts from what the allocator kept of the build."""
    with tempfile.TemporaryDirectory(prefix="bench-packet-") as folder:
        path = Path(folder) / "packet.zip"
        path.write_bytes(packet)
        done = subprocess.run(
            [sys.executable, "-c", VERIFY_ALONE, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
    return int(done.stdout.split()[-1])


def reset_peak_rss() -> bool:
    """Start this process's resident peak (``VmHWM``, read by :func:`verify.peak_kib`) again
    from what it holds now (Linux's ``clear_refs``, 5); False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-subject", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--store", help="keep the built store in this directory")
    args = parser.parse_args(argv)

    home = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="bench-packet-"))
    # As `sealtrail packet build` and `packet verify` run (api/console/packets.py).
    collect_young_less_often()
    print(f"the collector's youngest generation: {YOUNG_GENERATION_THRESHOLD:,} allocations")
    try:
        bench = bench_verify.prepare(home, args.per_subject)
        print(f"building the store: {args.events:,} events under {home}", flush=True)
        bench_verify.fill(bench, args.events, args.batch, os.cpu_count() or 1)
        store = open_store(bench.settings)
        try:
            open_sponsor_account(store.administration, store.settings)
            peaks_apart = reset_peak_rss()
            started = time.perf_counter()
            packet = build_packet(store, documents=False)
            build_seconds = time.perf_counter() - started
            build_peak = bench_verify.peak_kib(os.getpid()) / 1024
        finally:
            store.close()

        stages = Stages()
        reset_peak_rss()
        started = time.perf_counter()
        report = verify_packet(packet, progress=stages)
        ended = time.perf_counter()
        verify_peak = bench_verify.peak_kib(os.getpid()) / 1024
        if not report.ok:
            print("the packet did not verify:", *report.findings[:5], sep="\n  ")
            return 1
        verify_seconds = ended - started
        evidence = stages.seconds("manifest", "derived files", ended)
        derived = stages.seconds("derived files", None, ended)
        count, raw = raw_rate(packet)

        full_rate = report.events / verify_seconds
        evidence_rate = report.events / evidence
        print(f"\npacket of {report.events:,} events, {len(packet) / 1e6:,.1f} MB (no PDFs)")
        build_rate = report.events / build_seconds
        print(f"  build:                 {build_seconds:8.1f} s ({build_rate:,.0f} events/s)")
        print(f"  verify, in all:        {verify_seconds:8.1f} s ({full_rate:,.0f} events/s)")
        print(f"    evidence:            {evidence:8.1f} s ({evidence_rate:,.0f} events/s)")
        print(f"    derived files again: {derived:8.1f} s")
        for part, seconds in stages.derived_parts(ended):
            per_event = seconds / report.events
            print(
                f"      {part + ':':33} {seconds:6.1f} s ({per_event * 1e6:5.0f} us/event; "
                f"alone, it holds the ratio under {ratio_bound(raw, per_event):.2f})"
            )
        print(f"  raw Ed25519 (PyNaCl):  {count / raw:8.1f} s ({raw:,.0f} verifications/s)")
        floor = serialization_floor(packet)
        floor_per_event = sum(floor.values()) / report.events
        print(
            "  the event lines read, and each derived file read or written, whichever is cheaper: "
            f"{sum(floor.values()):.1f} s ({floor_per_event * 1e6:.0f} us/event)"
        )
        for part, seconds in floor.items():
            print(
                f"      {part + ':':33} {seconds:6.2f} s ({seconds / report.events * 1e6:5.1f} "
                "us/event)"
            )
        print(
            "  the most a verifier that checks them reaches (signature + that alone): "
            f"{ratio_bound(raw, floor_per_event):.2f}"
        )
        print(
            f"  ratio verify / raw Ed25519, in all:     {full_rate / raw:.2f} "
            f"(issue 7's goal >= {GOAL}: {verdict(full_rate / raw >= GOAL)})"
        )
        print(f"  ratio verify / raw Ed25519, evidence:   {evidence_rate / raw:.2f}")
        floor_rate = 1 / (1 / raw + floor_per_event)
        print("  issue 21's goals:")
        print(
            f"    build: {build_rate:,.0f} events/s (goal >= {BUILD_GOAL:,}: "
            f"{verdict(build_rate >= BUILD_GOAL)})"
        )
        print(
            f"    verify / floor: {full_rate / floor_rate:.2f} ({1e6 / full_rate:.0f} against "
            f"{1e6 / floor_rate:.0f} us/event; goal >= {FLOOR_GOAL}: "
            f"{verdict(full_rate / floor_rate >= FLOOR_GOAL)})"
        )
        # A phase's peak starts from what the process holds as it begins: the imports, and
        # for verify what the allocator kept of the build's memory.
        held = "from each phase's start" if peaks_apart else "the process's, build's included"
        print(
            f"    peak RSS ({held}): "
            f"build {build_peak:,.0f} MiB, verify {verify_peak:,.0f} MiB, "
            f"packet {len(packet) / 2**20:,.1f} MiB"
        )
        print(
            "    peak RSS of a verification in a process of its own, as `sealtrail packet "
            f"verify` runs: {verification_alone_peak(packet) / 1024:,.0f} MiB"
        )
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    finally:
        if not args.store:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
