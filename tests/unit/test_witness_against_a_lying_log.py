"""``sealtrail witness`` rounds against a log that lies: a real HTTP server on 127.0.0.1 that signs
with the log's own key whatever its owner wants each witness round to see (split views), or
answers more than any checkpoint can be. Found attacking the witness program (issue 20)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from api.console.witness import Witness, WitnessFailed, run_round
from signatures.checkpoint import Checkpoint, sign_checkpoint
from signatures.keys import generate_private_key
from signatures.verifier_keys import NOTE_SIGNATURE, VerifierKey

ORIGIN = "sealtrail.example/attack"
LOG_KEY = generate_private_key()


@contextmanager
def lying_log(latest: Callable[[], bytes]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A log whose ``/v1/checkpoints/latest`` answers ``latest()`` to each request, and which
    keeps every cosignature posted to it."""
    posted: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(latest())

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            posted.append(json.loads(self.rfile.read(length)))
            self._answer(b"{}", 201)

        def _answer(self, body: bytes, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posted
    finally:
        server.shutdown()
        server.server_close()


def signed(root: bytes, size: int = 2) -> bytes:
    note = sign_checkpoint(LOG_KEY, ORIGIN, Checkpoint(ORIGIN, size, root))
    return json.dumps({"note": note}).encode()


def witness_of(url: str, state: Path) -> Witness:
    log_key = VerifierKey(ORIGIN, NOTE_SIGNATURE, LOG_KEY.public_key())
    return Witness("cep-witness", generate_private_key(), log_key, url, state)


def test_two_rounds_at_once_on_one_state_folder_never_cosign_two_roots_of_one_size(
    tmp_path: Path,
) -> None:
    """Two rounds at once (a cron job and an operator's run) read the same last checkpoint;
    a log showing each another root of the same size had both cosigned, a fork the witness
    vouched for twice. One round holds the state folder at a time."""
    both_asked = threading.Barrier(2, timeout=3)
    roots = iter([bytes([1]) * 32, bytes([2]) * 32])
    lock = threading.Lock()

    def split_view() -> bytes:
        # Answer only once both rounds are inside (when a lock lets them both in).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_asked.wait()
        with lock:
            return signed(next(roots))

    with lying_log(split_view) as (url, posted):
        witness = witness_of(url, tmp_path / "state")
        (tmp_path / "state").mkdir()
        with ThreadPoolExecutor(2) as pool:
            rounds = [pool.submit(run_round, witness) for _ in range(2)]
            outcomes = [round_.exception() for round_ in rounds]

    cosigned_roots = {cosigned["checkpoint"] for cosigned in posted}
    assert len(cosigned_roots) == 1, cosigned_roots
    (refused,) = [outcome for outcome in outcomes if outcome is not None]
    assert isinstance(refused, WitnessFailed)
    assert "another round" in str(refused)


def test_an_answer_bigger_than_any_checkpoint_is_not_read_whole(tmp_path: Path) -> None:
    huge = b'{"note": "' + b" " * (8 * 1024 * 1024) + b'"}'

    (tmp_path / "state").mkdir()
    with lying_log(lambda: huge) as (url, posted), pytest.raises(WitnessFailed, match="more than"):
        run_round(witness_of(url, tmp_path / "state"))

    assert posted == []


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps({"note": "not a note"}).encode(),
        json.dumps(
            {
                "note": sign_checkpoint(
                    generate_private_key(), ORIGIN, Checkpoint(ORIGIN, 2, bytes(32))
                )
            }
        ).encode(),
    ],
)
def test_an_answer_the_log_s_key_did_not_sign_stops_no_later_round(
    tmp_path: Path, answer: bytes
) -> None:
    """Anyone between the witness and the log (its address is often plain http) could answer
    one round with a note the log's key never signed: the witness marked the log FORKED, kept
    that as evidence of a fork and cosigned nothing more until an operator came. What the log
    did not sign is evidence of nothing: the round fails and the next one cosigns."""
    answers = iter([answer, signed(bytes(32))])
    (tmp_path / "state").mkdir()

    with lying_log(lambda: next(answers)) as (url, posted):
        witness = witness_of(url, tmp_path / "state")
        with pytest.raises(WitnessFailed, match=r"does not verify with the log.s key"):
            run_round(witness)
        assert not (tmp_path / "state" / "FORKED").exists()
        assert run_round(witness).size == 2

    assert len(posted) == 1
