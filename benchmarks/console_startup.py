"""The CPU a ``sealtrail`` call spends before and around its work: start-up of the console.

Each command runs as a user runs it, a new process of ``.venv/bin/sealtrail``, ``--rounds``
times; its CPU time (user + system, of the process and its children: on a shared machine the
wall clock says more about the neighbours) is taken from the operating system, and the median
printed. The commands:

- ``--version``: the console alone;
- ``key generate``: a key pair written to files, no store;
- ``user train``: an administrator's signed change to a store made by ``sealtrail init``;
- ``verify``: the full check of the store after ``sealtrail demo`` (its work is most of it);
- ``submit``: the site client, signing for a server that is not there (nothing listens on the
  port it is given, so it stops at the first request: what it costs to start and load the key).

The baselines, in the same run:

- **eager**: ``python -c`` importing the module of every command, as every call did before the
  console imported only the command it runs; each command's ratio to it is printed;
- **floor**: ``python -c pass``, the interpreter alone;
- with ``--before DIR``, every command again with the package of an older checkout (``git
  archive main | tar -x -C DIR``) first on ``PYTHONPATH``, alternating with the current one,
  and the ratio now / before.

Run: ``.venv/bin/python benchmarks/console_startup.py [--rounds N] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
SEALTRAIL = str(BIN / "sealtrail")
PYTHON = str(BIN / "python")
EAGER = "from api.console import every_command; every_command()"
EAGER_BEFORE = "import api.console"
"""Before the lazy group, importing the package imported every command."""


def cpu_of(argv: Sequence[str], env: dict[str, str]) -> float:
    """The CPU seconds (user + system) of running ``argv`` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # In the store's home, not here: python -c puts its folder first on sys.path, before
    # PYTHONPATH, and this checkout's packages would hide those of --before.
    subprocess.run(
        argv,
        env=env,
        cwd=env["SEALTRAIL_HOME"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def checked(argv: Sequence[str], env: dict[str, str]) -> str:
    """Run a step of the set-up; what it printed."""
    done = subprocess.run(
        argv, env=env, cwd=env["SEALTRAIL_HOME"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def closed_port() -> int:
    """A port on loopback that nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="console-startup-") as folder:
        work = Path(folder)
        home = work / "home"
        home.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
        env.pop("PYTHONPATH", None)
        env |= {
            "SEALTRAIL_HOME": str(home),
            "SEALTRAIL_DATABASE_URL": f"sqlite:///{home / 'store.sqlite3'}",
            "SEALTRAIL_PASSWORD": "a passphrase for the benchmark only",
        }
        printed = checked([SEALTRAIL, "init"], env)
        one_time = printed.split("one-time password: ")[1].split()[0]
        checked(
            [SEALTRAIL, "user", "password", "admin"],
            env
            | {"SEALTRAIL_PASSWORD": one_time, "SEALTRAIL_NEW_PASSWORD": env["SEALTRAIL_PASSWORD"]},
        )
        print("loading the demonstration cohort (untimed) ...", file=sys.stderr)
        checked([SEALTRAIL, "demo"], env)
        event = work / "screening.json"
        event.write_text(
            json.dumps(
                {
                    "study": "NCT01297972",
                    "subject": "RP-99",
                    "kind": "Screened",
                    "data": {"site": "RP", "sex": "F", "age": 41, "screened_on": "2013-01-07"},
                }
            )
        )
        key = work / "bench.pem"
        admin_key = str(home / "admin.pem")
        train = ["--course", "Console start-up benchmark", "--completed-on", "2026-01-10"]
        commands: dict[str, list[str]] = {
            "--version": [SEALTRAIL, "--version"],
            "key generate": [SEALTRAIL, "key", "generate", "--out", str(key)],
            "user train": [
                SEALTRAIL,
                "user",
                "train",
                "admin",
                "--role",
                "auditor",
                *train,
                "--as",
                "admin",
                "--key",
                admin_key,
            ],
            "verify (demo store)": [SEALTRAIL, "verify"],
            "submit (no server)": [
                SEALTRAIL,
                "submit",
                "--url",
                f"http://127.0.0.1:{closed_port()}",
                "--user",
                "admin",
                "--key",
                admin_key,
                str(event),
            ],
        }
        runs = {"now": env}
        if options.before is not None:
            runs["before"] = env | {"PYTHONPATH": str(options.before.resolve())}
        eager = {"now": EAGER, "before": EAGER_BEFORE}
        samples: dict[tuple[str, str], list[float]] = {}
        for _ in range(options.rounds):
            samples.setdefault(("floor", "now"), []).append(cpu_of([PYTHON, "-c", "pass"], env))
            for run, run_env in runs.items():
                samples.setdefault(("eager", run), []).append(
                    cpu_of([PYTHON, "-c", eager[run]], run_env)
                )
                for name, argv in commands.items():
                    key.unlink(missing_ok=True)
                    key.with_suffix(".pub.pem").unlink(missing_ok=True)
                    samples.setdefault((name, run), []).append(cpu_of(argv, run_env))

    median = {where: statistics.median(cpu) for where, cpu in samples.items()}
    print(f"CPU seconds (user + system), median of {options.rounds} rounds")
    print(f"floor (python -c pass): {median['floor', 'now']:.2f} s")
    print(f"eager (every command's module imported): {median['eager', 'now']:.2f} s")
    header = f"{'command':<22}{'now':>8}{'/ eager':>9}"
    if options.before is not None:
        header += f"{'before':>9}{'now / before':>14}"
    print(header)
    for name in ["eager", *commands]:
        now = median[name, "now"]
        line = f"{name:<22}{now:>7.2f}s{now / median['eager', 'now']:>9.2f}"
        if options.before is not None:
            before = median[name, "before"]
            line += f"{before:>8.2f}s{now / before:>14.2f}"
        print(line)


if __name__ == "__main__":
    main()
