"""What ``sealtrail demo`` and a packet of the demonstration store cost, against a baseline.

The README's tour runs ``sealtrail demo`` twice and builds and verifies a packet of the
demonstration store with its PDFs; the demo builds and verifies site RP's copy without them.
Each is timed here as a person runs it, one process each, by its CPU (user + system, of the
process and of the processes it forks to draw the PDFs): the machine is shared, and wall time
says more of the others' work than of this.

- **demo**: ``sealtrail demo`` in a folder just initialised (``sealtrail init``, not timed);
- **packet build** / **packet verify**: ``build_packet(store)`` of that store, with its PDFs,
  written to a file, then ``verify_packet`` of the file, drawing the PDFs again, as ``sealtrail
  packet build`` and ``sealtrail packet verify`` do (the command's password check aside);
- the same two **without the PDFs** (``--no-documents``), the demo's own site copy's way.

The same steps run on the code of a baseline (``--baseline REF``, a git revision: ``main`` by
default, taken with ``git archive`` into a temporary folder and run with this venv, its folder
first on ``PYTHONPATH``) and on this working tree, alternately, ``--repeats`` times each; the
table gives the medians and the ratio now / baseline. Both runs of a step use the same store
(built once by this tree's demo and copied for each run), and the packets both build are
compared byte for byte: the point is the same output for less work.

Run: ``.venv/bin/python benchmarks/demo_packet.py`` (several minutes on two cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD = """
import sys
from infrastructure.bootstrap import open_store
from infrastructure.packets.build import build_packet
store = open_store()
try:
    data = build_packet(store, documents=sys.argv[2] == "documents")
finally:
    store.close()
open(sys.argv[1], "wb").write(data)
"""

VERIFY = """
import sys
from infrastructure.packets.verify import verify_packet
report = verify_packet(open(sys.argv[1], "rb").read(), redraw_documents=sys.argv[2] == "documents")
sys.exit(0 if report.ok else 1)
"""

CONSOLE = "import sys; from api.console import main; sys.argv[0] = 'sealtrail'; main()"


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(code: Path | None, folder: Path, *args: str) -> float:
    """CPU seconds of one process (and its children) running ``args`` after ``python -c``,
    in ``folder``, on the code at ``code`` (None: this tree, as installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    before = children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", *args], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[1:] or args[0][:40]} failed in {folder}:\n{done.stderr}")
    return children_cpu() - before


def baseline_tree(ref: str, into: Path) -> Path:
    """The code of ``ref``, as ``git archive`` gives it."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        base = baseline_tree(args.baseline, work / "baseline")
        codes: dict[str, Path | None] = {"baseline": base, "now": None}
        initialised = work / "initialised"
        initialised.mkdir()
        run(None, initialised, CONSOLE, "init")
        seconds: dict[tuple[str, str], list[float]] = {}
        store = work / "store"
        packets: dict[tuple[str, str], bytes] = {}

        def timed(step: str, which: str, folder: Path, *args: str) -> None:
            seconds.setdefault((step, which), []).append(run(codes[which], folder, *args))

        for repeat in range(args.repeats):
            order = ["baseline", "now"] if repeat % 2 == 0 else ["now", "baseline"]
            for which in order:
                folder = work / f"demo-{which}-{repeat}"
                shutil.copytree(initialised, folder, symlinks=True)
                timed("sealtrail demo", which, folder, CONSOLE, "demo")
                if not store.exists():
                    shutil.copytree(folder, store, symlinks=True)
                    # Sealed once here, so that every build below packs the same checkpoint.
                    run(None, store, BUILD, str(work / "settle.zip"), "no-documents")
                shutil.rmtree(folder)
            for documents in ("documents", "no-documents"):
                shown = "" if documents == "documents" else " (no PDFs)"
                for which in order:
                    folder = work / f"packet-{which}"
                    shutil.copytree(store, folder, symlinks=True)
                    packet = work / f"{which}-{documents}.zip"
                    timed(f"packet build{shown}", which, folder, BUILD, str(packet), documents)
                    timed(f"packet verify{shown}", which, folder, VERIFY, str(packet), documents)
                    packets[(which, documents)] = packet.read_bytes()
                    shutil.rmtree(folder)
        for documents in ("documents", "no-documents"):
            same = packets[("baseline", documents)] == packets[("now", documents)]
            print(f"packets {documents}: {'byte-identical' if same else 'DIFFER'}")
        print(f"\nCPU seconds (user + system), median of {args.repeats}; baseline {args.baseline}")
        print(f"{'step':28} {'baseline':>9} {'now':>9} {'now/baseline':>13}")
        steps = list(dict.fromkeys(step for step, _ in seconds))
        for step in steps:
            before = statistics.median(seconds[(step, "baseline")])
            after = statistics.median(seconds[(step, "now")])
            print(f"{step:28} {before:9.2f} {after:9.2f} {after / before:13.2f}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
