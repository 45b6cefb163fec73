"""``sealtrail verify --since CHECKPOINT_FILE`` at the console: the auditor's daily check, what
it prints to keep, and every kept file it refuses (one line on stderr, nothing on stdout)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.account import Role
from infrastructure.application.witnessing import Witnessing
from infrastructure.bootstrap import open_store
from signatures.checkpoint import Checkpoint, parse_note, sign_checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.keys import generate_private_key, private_key_from_pem
from tests.cli_stores import ADMIN_PASSWORD, INITIALISED_EVENTS, sealtrail
from tests.conftest import make_settings, open_person


def sealed(home: Path) -> str:
    """``sealtrail checkpoint``: the note an auditor keeps."""
    done = sealtrail("checkpoint", home=home)
    assert done.returncode == 0, done.stderr
    return done.stdout


def kept(home: Path, note: str | bytes) -> Path:
    path = home / "kept.note"
    path.write_bytes(note.encode("utf-8") if isinstance(note, str) else note)
    return path


def add_a_user(home: Path) -> None:
    """One account event, signed by the administrator made by init."""
    done = sealtrail(
        *("user", "add", "coord1", "--name", "Ana", "--role", "site_coordinator"),
        *("--as", "admin", "--key", str(home / "admin.pem")),
        home=home,
        extra_env={"SEALTRAIL_PASSWORD": ADMIN_PASSWORD},
    )
    assert done.returncode == 0, done.stderr


def test_the_daily_check_checks_what_came_after_and_prints_the_checkpoint_to_keep(
    home: Path,
) -> None:
    yesterday = sealed(home)
    add_a_user(home)
    today = sealed(home)

    done = sealtrail("verify", "--since", str(kept(home, yesterday)), home=home)

    assert done.returncode == 0, done.stdout + done.stderr
    verdict, keep, *note = done.stdout.splitlines(keepends=True)
    size = parse_note(today)[0].size
    assert size > INITIALISED_EVENTS  # the account's events: opened, its role, its site...
    assert verdict == (
        f"OK: {size - INITIALISED_EVENTS} events checked after the kept checkpoint of size "
        f"{INITIALISED_EVENTS} (the log holds {size}), 0 findings\n"
    )
    assert keep == "Keep this checkpoint for the next check:\n"
    assert "".join(note) == today


def test_the_same_checkpoint_again_says_nothing_new_and_json_carries_it(home: Path) -> None:
    today = sealed(home)

    text = sealtrail("verify", "--since", str(kept(home, today)), home=home)
    as_json = sealtrail("verify", "--since", str(kept(home, today)), "--json", home=home)

    assert text.returncode == 0
    assert text.stdout.startswith(
        f"OK: nothing new since the kept checkpoint of size {INITIALISED_EVENTS}\n"
    )
    assert as_json.returncode == 0
    document = json.loads(as_json.stdout)
    # What was not checked, as the full verify's --json says it: no time-stamps here.
    notes = document.pop("notes")
    assert any("recording times not checked against an outside clock" in n for n in notes)
    assert f"note: {notes[0]}" in text.stderr
    assert document == {
        "since": INITIALISED_EVENTS,
        "tree_size": INITIALISED_EVENTS,
        "events": 0,
        "ok": True,
        "findings": [],
        "checkpoint": today,
    }


def test_a_kept_checkpoint_beyond_the_log_is_a_finding_and_no_checkpoint_to_keep(
    home: Path,
) -> None:
    checkpoint, _ = parse_note(sealed(home))
    larger = Checkpoint(checkpoint.origin, checkpoint.size + 1, checkpoint.root)

    done = sealtrail(
        "verify", "--since", str(kept(home, server_signed(home, larger))), "--json", home=home
    )

    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert [finding["kind"] for finding in document["findings"]] == ["log-truncated"]
    assert (document["ok"], document["checkpoint"]) == (False, None)


def server_signed(home: Path, checkpoint: Checkpoint) -> str:
    key = private_key_from_pem((home / "keys" / "server-ed25519.pem").read_bytes())
    return sign_checkpoint(key, checkpoint.origin, checkpoint)


Tamper = Callable[[Path, str], bytes]


def of_another_log(home: Path, note: str) -> bytes:
    checkpoint, _ = parse_note(note)
    other = Checkpoint("other.example/trial-log", checkpoint.size, checkpoint.root)
    return server_signed(home, other).encode()


def signed_by_another_key(home: Path, note: str) -> bytes:
    checkpoint, _ = parse_note(note)
    return sign_checkpoint(generate_private_key(), checkpoint.origin, checkpoint).encode()


def of_the_empty_log(home: Path, note: str) -> bytes:
    checkpoint, _ = parse_note(note)
    empty = Checkpoint(
        checkpoint.origin,
        0,
        bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    )
    return server_signed(home, empty).encode()


def with_a_nul(home: Path, note: str) -> bytes:
    return note.replace("\n", "\n\x00", 1).encode()


def with_a_huge_size(home: Path, note: str) -> bytes:
    origin, _, rest = note.partition("\n")
    return f"{origin}\n{2**64}\n{rest.partition(chr(10))[2]}".encode()


def not_utf8(home: Path, note: str) -> bytes:
    return b"\xff\xfe" + note.encode()


@pytest.mark.parametrize(
    ("tamper", "code", "said"),
    [
        (of_another_log, 1, "the checkpoint is of the log 'other.example/trial-log'"),
        (signed_by_another_key, 1, "the note carries no signature by"),
        (of_the_empty_log, 2, "--since: the checkpoint is of the empty log"),
        (with_a_nul, 2, "--since: not a checkpoint: "),
        (with_a_huge_size, 2, "--since: not a checkpoint: not a tree size: '18446744073709551616'"),
        (not_utf8, 2, "--since: not a checkpoint: a signed note is UTF-8 text"),
    ],
)
def test_a_kept_file_that_is_no_checkpoint_of_this_log_is_refused_in_one_line(
    home: Path, tamper: Tamper, code: int, said: str
) -> None:
    path = kept(home, tamper(home, sealed(home)))

    done = sealtrail("verify", "--since", str(path), home=home)

    assert done.returncode == code
    assert done.stdout == ""
    assert said in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.requirement("P11-11.10e-5", "URS-verify-since-1")
def test_the_daily_check_requires_the_witnesses_quorum_like_the_full_verify(home: Path) -> None:
    """``verify --since FILE --witness KEY --quorum N``: exit 1 naming the new checkpoint while
    the witness has not cosigned it, 0 once it has; a witness key that is none, exit 2."""
    store = open_store(make_settings(home))
    try:
        cep = open_person(store, "cep-witness", role=Role.WITNESS, sites=())
        yesterday = store.app.checkpoints.seal().note
        add_a_user(home)
        today = store.app.checkpoints.seal()
        trusted = witness_key(cep.user_id, cep.private_key).text()
        args = ("verify", "--since", str(kept(home, yesterday)), "--witness", trusted)

        unvouched = sealtrail(*args, "--quorum", "1", home=home)

        assert unvouched.returncode == 1, unvouched.stderr
        origin = store.app.checkpoints.origin
        assert (
            f"witness-quorum-not-met: checkpoint {today.tree_size} of {origin}"
            " is vouched for by 0 of the 1 witnesses required; not by cep-witness (no cosignature)"
        ) in unvouched.stdout
        assert unvouched.stdout.splitlines()[-1].endswith("; keep the old checkpoint")

        checkpoint, _ = parse_note(today.note)
        line = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time())).line()
        Witnessing(store.app).receive(today.tree_size, checkpoint.body(), line)
        vouched = sealtrail(*args, "--quorum", "1", "--json", home=home)

        assert vouched.returncode == 0, vouched.stdout
        assert json.loads(vouched.stdout)["checkpoint"] == today.note

        no_key = sealtrail(*args[:-1], "cep-witness+00000000+AAAA", home=home)
        assert no_key.returncode == 2 and no_key.stdout == ""
        assert "--witness 'cep-witness+00000000+AAAA': " in no_key.stderr
    finally:
        store.close()
