"""``sealtrail witness``: a witness's round (c2sp.org/tlog-witness, pulled by the witness).

Run by the sponsor, the ethics committee or a site, on its own machine, with its own Ed25519
key and state folder, against the log's public endpoints (no account, no token):

1. fetch the latest checkpoint and check the log's signature with the log's key;
2. fetch the consistency proof from the last checkpoint this witness cosigned and check it
   (:func:`signatures.merkle.verify_consistency`);
3. record the new checkpoint as the last one cosigned (atomically), cosign it with the time
   (:func:`signatures.cosignature.cosign`) and post the cosignature back.

Any inconsistency between checkpoints the log's key signed (a smaller tree, another root at
the same size, a bad proof) is refused in one line, exit 1, with the evidence kept in
``DIR/evidence/<time>/`` (both checkpoints and the proof) and a ``DIR/FORKED`` file that stops
every later round until an operator who has looked removes it. Exit 2 on wrong usage.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import click

from api.console.exits import REFUSED, USAGE, fail
from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.errors import KeyFormatError, VerificationError
from signatures.keys import private_key_from_pem
from signatures.merkle import verify_consistency
from signatures.verifier_keys import NOTE_SIGNATURE, VerifierKey, parse_verifier_key

STATE = "state.json"
FORKED = "FORKED"
LOCK = "round.lock"
TIMEOUT = 30
MAX_ANSWER = 1024 * 1024
"""Bytes of one answer read at most: a checkpoint with its cosignatures, or a consistency proof
of 64 hashes, is a few kilobytes; a log answering more is not read into memory."""


class WitnessRefused(Exception):
    """The log showed this witness something it will not cosign; the evidence is kept."""


class WitnessFailed(Exception):
    """The round could not be made (the log cannot be reached, or refused the cosignature)."""


@dataclass(frozen=True)
class Witness:
    """Who cosigns (name, key), what log (its URL and key) and where it keeps its state."""

    name: str
    private_key: Any
    log_key: VerifierKey
    url: str
    state: Path


def read_log_key(text: str) -> VerifierKey:
    """The log's key: a note verifier key (``origin+id+base64``), or a file holding one."""
    candidate = Path(text)
    if candidate.is_file():
        text = candidate.read_text(encoding="utf-8").strip()
    return parse_verifier_key(text, NOTE_SIGNATURE)


def run_round(witness: Witness) -> Checkpoint:
    """One round: fetch, check, cosign, post; returns the checkpoint cosigned.

    One round at a time holds the state folder (an exclusive lock on ``DIR/round.lock``): two
    rounds at once would both check against the same last checkpoint, and a log showing each
    another checkpoint of the same size would have both cosigned.

    Raises:
        WitnessRefused: an inconsistency (the evidence is kept, the log is marked forked).
        WitnessFailed: the log could not be reached or refused the cosignature, or another
            round holds the state folder.
    """
    with (witness.state / LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WitnessFailed(
                f"another round of this witness holds {witness.state}; this one cosigns nothing"
            ) from None
        return _locked_round(witness)


def _locked_round(witness: Witness) -> Checkpoint:
    forked = witness.state / FORKED
    if forked.exists():
        raise WitnessRefused(
            f"this witness saw {witness.log_key.name} fork ({forked.read_text().strip()}); it "
            f"cosigns nothing more of it until an operator removes {forked}"
        )
    base = witness.url.rstrip("/")
    latest = _get(f"{base}/v1/checkpoints/latest")
    note = str(latest.get("note", ""))
    try:
        checkpoint = verify_checkpoint(note, witness.log_key.name, witness.log_key.public_key)
    except VerificationError as error:
        # What the log's key did not sign is evidence of nothing (anyone on the way could have
        # sent it): this round fails, the log is not marked forked, the next round tries again.
        raise WitnessFailed(
            f"the checkpoint served does not verify with the log's key: {error}; nothing cosigned"
        ) from None
    last = _last(witness.state)
    proof: list[bytes] = []
    if last is not None:
        old_size, old_root, old_note = last
        if checkpoint.size < old_size:
            _refuse(
                witness,
                f"the log shrank: checkpoint {checkpoint.size} is smaller than {old_size}, "
                "already cosigned",
                note=note,
                old=old_note,
            )
        if checkpoint.size == old_size and checkpoint.root != old_root:
            _refuse(
                witness,
                f"the log forked: checkpoint {checkpoint.size} has another root than the one "
                "already cosigned at that size",
                note=note,
                old=old_note,
            )
        if checkpoint.size > old_size:
            answer = _get(f"{base}/v1/checkpoints/consistency?from={old_size}&to={checkpoint.size}")
            try:
                proof = [base64.b64decode(h, validate=True) for h in answer.get("proof", [])]
                verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root, proof)
            except (VerificationError, binascii.Error, TypeError, ValueError) as error:
                _refuse(
                    witness,
                    f"checkpoint {checkpoint.size} does not extend checkpoint {old_size}, "
                    f"already cosigned: {error}",
                    note=note,
                    old=old_note,
                    proof=answer,
                )
    # The state moves before the cosignature leaves: a cosignature is a promise never to
    # cosign anything inconsistent with it, which only state already on disk can keep.
    _write_state(witness.state, checkpoint, note)
    cosignature = cosign(witness.private_key, witness.name, checkpoint, int(time.time()))
    _post(
        f"{base}/v1/checkpoints/{checkpoint.size}/cosignatures",
        {"checkpoint": checkpoint.body(), "cosignature": cosignature.line()},
    )
    return checkpoint


def _last(state: Path) -> tuple[int, bytes, str] | None:
    path = state / STATE
    if not path.exists():
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return int(kept["size"]), base64.b64decode(kept["root"]), str(kept["note"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise WitnessFailed(f"{path} is not a witness's state; restore it from a backup") from None


def _write_state(state: Path, checkpoint: Checkpoint, note: str) -> None:
    """Write the last cosigned checkpoint atomically: a new file, flushed, renamed over."""
    kept = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode("ascii"),
        "note": note,
        "cosigned_at": datetime.now(UTC).isoformat(),
    }
    partial = state / f".{STATE}.partial"
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(kept, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(state / STATE)


def _refuse(
    witness: Witness, why: str, *, note: str, old: str | None = None, proof: Any = None
) -> Any:
    """Keep the evidence, mark the log as forked for this witness, and refuse."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = witness.state / "evidence" / stamp
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "offered-checkpoint.txt").write_text(note, encoding="utf-8")
    if old is not None:
        (folder / "cosigned-checkpoint.txt").write_text(old, encoding="utf-8")
    if proof is not None:
        (folder / "consistency-proof.json").write_text(json.dumps(proof, indent=2))
    (folder / "why.txt").write_text(why + "\n", encoding="utf-8")
    (witness.state / FORKED).write_text(f"{why}; evidence in {folder}\n", encoding="utf-8")
    raise WitnessRefused(f"{why} (evidence kept in {folder})")


def _get(url: str) -> dict[str, Any]:
    return _exchange(Request(url, headers={"Accept": "application/json"}))  # noqa: S310


def _post(url: str, payload: dict[str, str]) -> dict[str, Any]:
    data = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    return _exchange(Request(url, data=data, method="POST", headers=headers))  # noqa: S310


def _exchange(request: Request) -> dict[str, Any]:
    try:
        with urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_ANSWER + 1)
        if len(body) > MAX_ANSWER:
            raise WitnessFailed(f"{request.full_url} answered more than {MAX_ANSWER} bytes")
        answer = json.loads(body)
    except HTTPError as error:
        try:
            problem = json.loads(error.read())
            said = f"{problem.get('title', error.reason)}: {problem.get('detail', '')}"
        except ValueError:
            said = str(error.reason)
        raise WitnessFailed(f"{request.full_url} answered {error.code} {said}") from None
    except (URLError, ConnectionError, TimeoutError, ValueError) as error:
        raise WitnessFailed(f"cannot read {request.full_url}: {error}") from None
    if not isinstance(answer, dict):
        raise WitnessFailed(f"{request.full_url} answered no JSON object")
    return answer


@click.command()
@click.option("--url", required=True, help="The log's base URL, e.g. http://127.0.0.1:8000")
@click.option(
    "--log-key",
    required=True,
    help="The log's note verifier key (origin+key ID+base64), or a file holding it",
)
@click.option("--name", required=True, help="This witness's name: its user id in the log")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="This witness's Ed25519 private key (PEM), the one registered for it in the log",
)
@click.option(
    "--state",
    "state",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="This witness's own folder: the last checkpoint it cosigned, and any evidence",
)
@click.option(
    "--every",
    type=click.IntRange(1, 86400),
    default=None,
    help="Run a round every SECONDS until stopped (default: one round)",
)
@click.option("--vkey", "show_vkey", is_flag=True, help="Print this witness's verifier key, exit")
def witness(
    url: str,
    log_key: str,
    name: str,
    key_file: Path,
    state: Path,
    every: int | None,
    show_vkey: bool,
) -> None:
    """Check the log's latest checkpoint against the last one this witness cosigned, and cosign
    it (C2SP tlog-cosignature); refuse, keeping the evidence, on any inconsistency."""
    try:
        private_key = private_key_from_pem(key_file.read_bytes())
        log = read_log_key(log_key)
        verifier = witness_key(name, private_key)
    except (KeyFormatError, ValueError, OSError) as error:
        fail(f"witness: {error}", USAGE)
    if show_vkey:
        click.echo(verifier.text())
        return
    try:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        fail(f"witness: cannot use the state folder {state}: {error}", USAGE)
    configured = Witness(name, private_key, log, url, state)
    while True:
        try:
            checkpoint = run_round(configured)
        except WitnessRefused as error:
            fail(f"witness refused: {error}", REFUSED)
        except WitnessFailed as error:
            if every is None:
                fail(f"witness: {error}", REFUSED)
            click.echo(f"sealtrail: witness: {error}; trying again in {every} s", err=True)
        else:
            click.echo(f"cosigned {checkpoint.origin} checkpoint {checkpoint.size}")
        if every is None:
            return
        time.sleep(every)
