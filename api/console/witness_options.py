"""``--witness KEY... --quorum N --witness-max-age SECONDS``: the witnesses an auditor trusts,
for ``sealtrail verify`` and ``sealtrail packet verify`` alike (docs/witnesses.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from api.console.exits import UsageError
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.errors import KeyFormatError
from signatures.verifier_keys import COSIGNATURE_V1, VerifierKey, parse_verifier_key
from signatures.witness_policy import DEFAULT_MAX_AGE, witness_names

F = TypeVar("F", bound=Callable[..., Any])


def read_witness_key(text: str) -> VerifierKey:
    """A witness's cosignature verifier key (``name+key ID+base64(0x04 || key)``, as
    ``sealtrail witness --vkey`` prints it), or a file holding one.

    Raises:
        UsageError: neither.
    """
    candidate = Path(text)
    try:
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8").strip()
        return parse_verifier_key(text, COSIGNATURE_V1)
    except (KeyFormatError, OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--witness {text[:80]!r}: {error}") from None


def witness_policy(
    witness_keys: tuple[str, ...], quorum: int | None, max_age: int
) -> WitnessPolicy | None:
    """The witnesses the auditor trusts and how many must vouch (all of them by default).

    Raises:
        UsageError: a quorum without witnesses, or above their number.
    """
    if not witness_keys:
        if quorum is not None:
            raise UsageError("--quorum needs the witnesses' keys (--witness KEY, one or more)")
        return None
    trusted = tuple(dict.fromkeys(read_witness_key(text) for text in witness_keys))
    witnesses = len(witness_names(trusted))  # a witness given by two keys is one witness
    needed = witnesses if quorum is None else quorum
    if not 1 <= needed <= witnesses:
        raise UsageError(f"--quorum is between 1 and the {witnesses} witnesses given")
    return WitnessPolicy(trusted, needed, max_age)


_OPTIONS = (
    click.option(
        "--witness",
        "witness_keys",
        multiple=True,
        help="A trusted witness's verifier key (name+key ID+base64, as `sealtrail witness "
        "--vkey` prints it) or a file holding it; repeat for each witness",
    ),
    click.option(
        "--quorum",
        type=click.IntRange(1, 100),
        default=None,
        help="How many of the --witness keys must vouch for the latest checkpoint (default: all)",
    ),
    click.option(
        "--witness-max-age",
        type=click.IntRange(0, 10**9),
        default=DEFAULT_MAX_AGE,
        show_default=True,
        help="Seconds before the latest checkpoint's sealing that a witness's newest cosignature "
        "of an earlier checkpoint still vouches for it; older is stale",
    ),
)


def witness_options(command: F) -> F:
    """Add ``--witness``, ``--quorum`` and ``--witness-max-age`` to a command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
