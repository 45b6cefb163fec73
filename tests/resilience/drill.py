"""docs/deployment.md followed block by block on a primary and a hot standby on one machine.

Two PostgreSQL clusters are made on free ports of 127.0.0.1 (tests/resilience/clusters.py:
``initdb`` for the primary, ``pg_basebackup -R -X stream`` for the standby, as section 7 says),
and the guide's commands are run against them in its order, in shells whose environment is the
guide's (section 2), with a home and backup folders in a temporary directory:

1. section 1: the role and the database;
2. section 3: ``sealtrail init``;
3. section 4: ``sealtrail serve --workers 4``, and two coordinators writing through it;
4. section 5: ``curl .../v1/server-key``, ``sealtrail verify``, ``sealtrail checkpoint``;
5. section 6: ``sealtrail backup`` while the coordinators write, then the restore in a fresh
   shell, ending with ``verify --from-checkpoint sealtrail-backup.note``;
6. section 7: a hot standby, an auditor role with SELECT only and an auditor's home with the
   public key alone; ``sealtrail init`` there refused with the home untouched, and
   ``verify --from-checkpoint`` of the note kept in section 5.

Everything is torn down afterwards. It prints each step and exits 0 when every one held::

    .venv/bin/python -m tests.resilience.drill

It needs PostgreSQL's server tools (``initdb``, ``pg_ctl``, ``pg_basebackup``) and client tools,
and the test extras (``make .venv/.installed-test``).
"""

# The guide's shell blocks are kept on one line each, as an operator pastes them.
# ruff: noqa: E501

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from infrastructure.settings import Settings
from tests.conftest import screening
from tests.resilience.clusters import Cluster, primary_cluster, standby_of
from tests.resilience.harness import HttpSite, free_port, prepare_store

PASSWORD = "change-me"
AUDITOR_PASSWORD = "auditor-reads-only"
WORKERS = 4


class DrillFailed(AssertionError):
    """A step of the guide did not do what the guide says."""


class Shell:
    """A shell with the guide's environment: runs a block, checks its exit status."""

    def __init__(self, **variables: str) -> None:
        self.environment = {
            key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")
        }
        self.environment["PATH"] = f"{Path(sys.executable).parent}:{self.environment['PATH']}"
        self.environment.update(variables)

    def run(self, block: str, *, expect: int = 0, cwd: Path | None = None) -> str:
        print(f"$ {block.strip()}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            env=self.environment,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        for line in (done.stdout + done.stderr).strip().splitlines()[-6:]:
            print(f"  {line}")
        if done.returncode != expect:
            raise DrillFailed(f"exit {done.returncode}, expected {expect}: {block.strip()}")
        return done.stdout + done.stderr


@contextmanager
def writers(base_url: str, settings: Settings) -> Iterator[list[int]]:
    """Two coordinators writing through the server until the block ends; the leaf indexes."""
    authors = prepare_store(settings, [f"coord{n}" for n in range(2)])
    stop = threading.Event()
    written: list[int] = []
    failures: list[str] = []

    def write(site: HttpSite) -> None:
        while not stop.is_set():
            response = site.record(f"RP-{uuid.uuid4().hex[:8]}", "Screened", screening())
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:200]}")
                return
            written.append(int(response.json()["leaf_index"]))

    threads = [threading.Thread(target=write, args=(HttpSite(base_url, a),)) for a in authors]
    for thread in threads:
        thread.start()
    try:
        yield written
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if failures:
        raise DrillFailed(f"a write through the server failed: {failures[0]}")


def wait_for(condition: str, check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise DrillFailed(f"timed out waiting for {condition}")


def drill(work: Path) -> dict[str, str]:
    """Run the guide; the figures to record."""
    results: dict[str, str] = {}
    with primary_cluster() as primary:
        port = primary.port
        gnupg = work / "gnupg"  # gpg's own home for the drill, not the user's
        gnupg.mkdir(mode=0o700)
        admin = Shell(GNUPGHOME=str(gnupg))
        print(f"\n# primary cluster on 127.0.0.1:{port}\n")

        print("## 1. What you need")
        admin.run(
            f"psql -h 127.0.0.1 -p {port} -U postgres -c \"CREATE ROLE sealtrail LOGIN PASSWORD '{PASSWORD}'\""
        )
        admin.run(
            f'psql -h 127.0.0.1 -p {port} -U postgres -c "CREATE DATABASE sealtrail OWNER sealtrail"'
        )

        print("## 2. Environment")
        home = work / "srv" / "sealtrail"
        url = f"postgresql+psycopg://sealtrail:{PASSWORD}@127.0.0.1:{port}/sealtrail"
        shell = Shell(
            GNUPGHOME=str(gnupg),
            SEALTRAIL_DATABASE_URL=url,
            SEALTRAIL_HOME=str(home),
            SEALTRAIL_LOG_ORIGIN="trial.example.org/NCT01297972",
        )
        home.parent.mkdir(parents=True)
        home.mkdir(mode=0o700)

        print("## 3. Create the store")
        initialised = shell.run("sealtrail init")
        if "one-time password" not in initialised:
            raise DrillFailed("init printed no one-time password")
        shell.run("sealtrail init")  # a second run changes nothing

        print("## 4. Serve")
        http_port = free_port()
        log = (work / "serve.log").open("wb")
        server = subprocess.Popen(
            [
                "sealtrail",
                "serve",
                "--workers",
                str(WORKERS),
                "--host",
                "127.0.0.1",
                "--port",
                str(http_port),
            ],
            env=shell.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{http_port}"
        try:
            wait_for("the server", lambda: _answers(base_url))
            settings = Settings.from_environ(shell.environment)
            with writers(base_url, settings) as written:
                wait_for("writes through the server", lambda: len(written) >= 20)

                print("## 5. Check it")
                shell.run(f"curl -sf {base_url}/v1/server-key")
                shell.run("sealtrail verify")
                shell.run(
                    'sealtrail checkpoint > "checkpoint-$(date -u +%Y%m%dT%H%MZ).note"', cwd=work
                )
                kept_note = next(work.glob("checkpoint-*.note"))

                print("## 6. Backup (while the coordinators write)")
                backups = work / "srv" / "backups"
                before = len(written)
                shell.run(f'sealtrail backup --to "{backups}/sealtrail-$(date -u +%Y%m%dT%H%MZ)"')
                backup = next(backups.glob("sealtrail-*"))
                wait_for("writes after the backup", lambda: len(written) > before + 5)
            results["writes through 4 workers"] = str(len(written))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        for name, mode in (("sealtrail-keys.tar.gz", 0o600), ("", 0o700)):
            actual = (backup / name).stat().st_mode & 0o777
            if actual != mode:
                raise DrillFailed(f"{backup / name} has mode {actual:o}, not {mode:o}")
        shell.run(
            "gpg --batch --pinentry-mode loopback --passphrase drill --symmetric --cipher-algo AES256 "
            "sealtrail-keys.tar.gz && shred -u sealtrail-keys.tar.gz",
            cwd=backup,
        )
        noted = (backup / "sealtrail-backup.note").read_text().splitlines()[1]

        print("## 6. Restore, in a fresh shell")
        restored_home = work / "srv" / "sealtrail-restored"
        admin.run(
            f'psql -h 127.0.0.1 -p {port} -U postgres -c "CREATE DATABASE sealtrail_restored OWNER sealtrail"'
        )
        admin.run(
            f"pg_restore --no-owner --dbname='postgresql://sealtrail:{PASSWORD}@127.0.0.1:{port}"
            "/sealtrail_restored' sealtrail.dump",
            cwd=backup,
        )
        admin.run(
            "gpg --batch --pinentry-mode loopback --passphrase drill --decrypt sealtrail-keys.tar.gz.gpg > "
            "sealtrail-keys.tar.gz",
            cwd=backup,
        )
        admin.run("gpgconf --kill gpg-agent")  # the agent gpg started for the drill's home
        admin.run(
            f"install -d -m 700 {restored_home} && tar -C {restored_home} -xzf "
            "sealtrail-keys.tar.gz && shred -u sealtrail-keys.tar.gz",
            cwd=backup,
        )
        fresh = Shell(
            SEALTRAIL_HOME=str(restored_home),
            SEALTRAIL_DATABASE_URL=f"postgresql+psycopg://sealtrail:{PASSWORD}@127.0.0.1:{port}/sealtrail_restored",
        )
        restored = fresh.run("sealtrail verify --from-checkpoint sealtrail-backup.note", cwd=backup)
        expected = f"OK: {noted} events checked, 0 findings"
        if expected not in restored:
            raise DrillFailed(f"the restored store's verify did not say {expected!r}")
        results["restore"] = expected

        print("## 7. Read replicas for auditors")
        admin.run(
            f"psql -h 127.0.0.1 -p {port} -U postgres -c \"CREATE ROLE auditor LOGIN PASSWORD '{AUDITOR_PASSWORD}'\""
        )
        admin.run(
            f'psql -h 127.0.0.1 -p {port} -U postgres -d sealtrail -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO auditor"'
        )
        with standby_of(primary) as standby:
            print(f"\n# hot standby on 127.0.0.1:{standby.port}\n")
            _wait_replayed(primary, standby)
            auditor = work / "srv" / "sealtrail-auditor"
            keys = home / "keys"
            audit = Shell(
                SEALTRAIL_HOME=str(auditor),
                SEALTRAIL_DATABASE_URL=f"postgresql+psycopg://auditor:{AUDITOR_PASSWORD}@127.0.0.1:{standby.port}/sealtrail",
            )
            audit.run(
                f"mkdir -p {auditor}/keys && cp {keys}/server-ed25519.pub.pem {auditor}/keys/"
            )
            before_init = (auditor / "keys" / "server-ed25519.pub.pem").read_bytes()
            refused = audit.run("sealtrail init", expect=2)
            if sorted(p.name for p in auditor.rglob("*")) != ["keys", "server-ed25519.pub.pem"]:
                raise DrillFailed("init on the standby wrote a file in the auditor's home")
            if (auditor / "keys" / "server-ed25519.pub.pem").read_bytes() != before_init:
                raise DrillFailed("init on the standby changed the auditor's public key")
            results["init on the standby"] = refused.strip().splitlines()[-1]
            verified = audit.run(
                f"sealtrail verify --from-checkpoint {shlex.quote(str(kept_note))}"
            )
            line = verified.strip().splitlines()[-1]
            if not (line.startswith("OK: ") and line.endswith(" 0 findings")):
                raise DrillFailed(f"verify on the standby: {line}")
            results["verify on the standby"] = line
    return results


def _answers(base_url: str) -> bool:
    try:
        return requests.get(base_url + "/v1/server-key", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait_replayed(primary: Cluster, standby: Cluster) -> None:
    """Until the standby has replayed what the primary had written when asked."""
    (target,) = primary.execute("SELECT pg_current_wal_lsn()::text")[0]

    def caught_up() -> bool:
        rows = standby.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        return bool(rows[0][0])

    wait_for("the standby to replay the primary", caught_up)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sealtrail-drill-") as directory:
        started = time.monotonic()
        try:
            results = drill(Path(directory))
        except DrillFailed as failure:
            print(f"\nDRILL FAILED: {failure}")
            return 1
    print(f"\nDRILL OK in {time.monotonic() - started:.0f} s")
    for name, value in results.items():
        print(f"- {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
