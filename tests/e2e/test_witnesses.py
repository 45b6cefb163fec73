"""Witnesses as real processes against a real server (issue 20).

Two witnesses, the sponsor's and the ethics committee's, each ``sealtrail witness`` in its own
process with its own key file and state folder, against gunicorn serving the store. A clean round
cosigns and ``verify --witness ... --quorum 2`` holds. Then the owner of the server, holding the
database file and the server's key, cuts the newest events off the log, records others in their
place and seals a new checkpoint with the server's own key: both witnesses refuse, say why in
one line, keep the evidence and refuse again on the next round, and ``verify --witness ...
--quorum 1`` fails naming the checkpoint nobody vouches for.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from domain.account import Role
from infrastructure.bootstrap import open_store
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from signatures.cosignature import witness_key
from signatures.keys import generate_private_key, private_key_to_pem
from tests.cli_stores import SEALTRAIL, sealtrail
from tests.conftest import (
    Person,
    consent,
    haemoglobin,
    make_settings,
    new_store,
    open_person,
    screening,
)
from tests.integration.test_tamper_evidence import drop_triggers, table
from tests.resilience.harness import Server, server_environment

pytestmark = pytest.mark.slow
WITNESSES = ("sponsor-witness", "cep-witness")
WITNESS_ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
"""A witness's machine knows nothing of the server's store."""


@dataclass(frozen=True)
class WitnessAt:
    """A witness's own machine: its name, key file and state folder."""

    name: str
    private_key: Ed25519PrivateKey
    key_file: Path
    state: Path

    @property
    def vkey(self) -> str:
        return witness_key(self.name, self.private_key).text()


@dataclass
class Trial:
    settings: Settings
    server: Server
    coordinator: Person
    witnesses: dict[str, WitnessAt]
    log_key: str = ""

    def command(self, name: str, *extra: str, log_key: str | None = None) -> list[str]:
        """``sealtrail witness`` as the witness ``name`` runs it on its own machine."""
        at = self.witnesses[name]
        return [
            SEALTRAIL,
            "witness",
            "--url",
            self.server.url,
            "--log-key",
            log_key or self.log_key,
            "--name",
            at.name,
            "--key",
            str(at.key_file),
            "--state",
            str(at.state),
            *extra,
        ]

    def witness(
        self, name: str, *extra: str, log_key: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One round in a process of its own, with none of the server's variables."""
        return subprocess.run(
            self.command(name, *extra, log_key=log_key),
            capture_output=True,
            text=True,
            env=WITNESS_ENVIRONMENT,
            timeout=60,
            check=False,
        )

    def verify(self, *args: str) -> subprocess.CompletedProcess[str]:
        return sealtrail("verify", "--workers", "1", *args, home=self.settings.home)


@pytest.fixture
def trial(tmp_path: Path) -> Iterator[Trial]:
    settings = make_settings(tmp_path / "server")
    store = new_store(settings)
    witnesses = {}
    for name in WITNESSES:
        private_key = generate_private_key()
        open_person(
            store, name, printed_name=name, role=Role.WITNESS, sites=(), private_key=private_key
        )
        folder = tmp_path / name
        folder.mkdir()
        key_file = folder / "witness-ed25519.pem"
        key_file.write_bytes(private_key_to_pem(private_key))
        witnesses[name] = WitnessAt(name, private_key, key_file, folder / "state")
    coordinator = open_person(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    for value in ("7.1", "7.2", "7.3"):
        coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin(value))
    store.app.checkpoints.seal()
    store.close()
    server = Server(server_environment(settings), tmp_path / "gunicorn.log", workers=1)
    server.start()
    try:
        found = Trial(settings, server, coordinator, witnesses)
        found.log_key = requests.get(server.url + "/v1/server-key", timeout=10).json()[
            "note_verifier_key"
        ]
        yield found
    finally:
        server.stop()


def rewrite_the_newest_events(trial: Trial, cut: int) -> int:
    """The owner's attack: the newest ``cut`` events gone, with their leaves, nodes, checkpoints
    and cosignatures; others recorded in their place; a new checkpoint sealed with the server's
    key. Returns its size."""
    trial.server.stop()
    store = open_store(trial.settings)
    try:
        drop_triggers(store, *APPEND_ONLY_TABLES)
        size = store.app.checkpoints.head().size
        keep = size - cut
        with store.app.checkpoints.engine.begin() as connection:
            positions = [
                row[0]
                for row in connection.execute(
                    text("SELECT position FROM merkle_leaves WHERE leaf_index >= :keep"),
                    {"keep": keep},
                )
            ]
            for position in positions:
                connection.execute(
                    text(f"DELETE FROM {table(store)} WHERE rowid = :p"), {"p": position}
                )
            connection.execute(
                text("DELETE FROM merkle_leaves WHERE leaf_index >= :k"), {"k": keep}
            )
            connection.execute(
                text("DELETE FROM merkle_nodes WHERE (node_index + 1) << level > :k"), {"k": keep}
            )
            connection.execute(text("DELETE FROM checkpoints WHERE tree_size > :k"), {"k": keep})
            connection.execute(text("DELETE FROM cosignatures"))
    finally:
        store.close()
    store = open_store(trial.settings)
    try:
        for value in ("9.1", "9.2", "9.3"):
            trial.coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin(value))
        sealed = store.app.checkpoints.seal().tree_size
    finally:
        store.close()
    trial.server.start()
    return sealed


def test_two_witnesses_cosign_then_refuse_a_rewritten_log_and_verify_names_the_checkpoint(
    trial: Trial,
) -> None:
    sponsor, cep = (trial.witnesses[name] for name in WITNESSES)

    for name in WITNESSES:
        done = trial.witness(name)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("cosigned ")
    served = requests.get(trial.server.url + "/v1/checkpoints/latest", timeout=10).json()
    assert {c["witness"] for c in served["cosignatures"]} == set(WITNESSES)
    kept = json.loads((sponsor.state / "state.json").read_text())
    assert kept["size"] == served["tree_size"]
    clean = trial.verify("--witness", sponsor.vkey, "--witness", cep.vkey, "--quorum", "2")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    forged_size = rewrite_the_newest_events(trial, cut=2)

    for name in WITNESSES:
        refused = trial.witness(name)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        (line,) = refused.stderr.strip().splitlines()
        assert "witness refused" in line and "does not extend checkpoint" in line
        at = trial.witnesses[name]
        (evidence,) = (at.state / "evidence").iterdir()
        assert sorted(p.name for p in evidence.iterdir()) == [
            "consistency-proof.json",
            "cosigned-checkpoint.txt",
            "offered-checkpoint.txt",
            "why.txt",
        ]
        assert f"\n{forged_size}\n" in (evidence / "offered-checkpoint.txt").read_text()
        again = trial.witness(name)  # never again past a fork, until an operator clears it
        assert again.returncode == 1 and "cosigns nothing more" in again.stderr
    served = requests.get(trial.server.url + "/v1/checkpoints/latest", timeout=10).json()
    assert served["tree_size"] == forged_size and served["cosignatures"] == []

    failed = trial.verify("--witness", str(sponsor.vkey), "--quorum", "1")

    assert failed.returncode == 1
    assert f"witness-quorum-not-met: checkpoint {forged_size} of " in failed.stdout


def test_the_witness_refuses_wrong_usage_with_one_line_and_exit_2(trial: Trial) -> None:
    at = trial.witnesses["cep-witness"]
    bad_key = trial.log_key.replace("+", "+0", 1)

    done = trial.witness(at.name, log_key=bad_key)

    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert not at.state.exists()


def test_a_witness_run_every_second_cosigns_each_round_until_stopped(trial: Trial) -> None:
    at = trial.witnesses["sponsor-witness"]
    running = subprocess.Popen(
        trial.command(at.name, "--every", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=WITNESS_ENVIRONMENT,
    )
    try:
        assert running.stdout is not None
        rounds = [running.stdout.readline() for _ in range(2)]
    finally:
        running.terminate()
        running.wait(timeout=30)

    assert all(line.startswith("cosigned ") for line in rounds), rounds
    served = requests.get(trial.server.url + "/v1/checkpoints/latest", timeout=10).json()
    assert [c["witness"] for c in served["cosignatures"]] == [at.name]
