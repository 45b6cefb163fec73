"""The witnesses' part of ``sealtrail verify``: every stored cosignature, and the quorum.

Every cosignature kept in the store is checked as the server checked it on the way in: of this
log's checkpoint of that size (``cosignature-other-origin``, ``cosignature-other-checkpoint``),
by a key registered in the log for that witness and valid when it cosigned
(``unknown-witness-key``, ``key-not-valid``), of an account that held the witness's role then
(``cosigner-not-a-witness``), and verifying (``cosignature-forged``). Given the
auditor's trusted witness keys and a quorum (``--witness``, ``--quorum``), the latest checkpoint
must be vouched for by that many of them (``witness-quorum-not-met``, ``cosignature-stale``:
:mod:`signatures.witness_policy`); and their cosignatures that hold are times the events'
recording times are bounded by (:mod:`infrastructure.verification.time_checks`).
"""

from __future__ import annotations

from datetime import UTC

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, inspect, or_, select

from domain.account import Account
from domain.authority import AuthorityLedger
from infrastructure.store.merkle_log import checkpoints, cosignatures
from infrastructure.verification.log_checks import Finding
from infrastructure.verification.time_checks import CosignedTime
from infrastructure.verification.witness_checks import WitnessPolicy, check_kept_cosignature
from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.errors import VerificationError, WitnessQuorumNotMet
from signatures.witness_policy import Witnessed, check_quorum


def check_witnesses(
    engine: Engine,
    origin: str,
    log_key: Ed25519PublicKey,
    accounts: dict[str, Account],
    ledger: AuthorityLedger,
    newest: int | None,
    policy: WitnessPolicy | None,
    smallest: int = 0,
) -> tuple[list[Finding], list[CosignedTime]]:
    """Every stored cosignature of a checkpoint up to ``newest``, then the quorum; and the
    times of those that hold made by a witness key the auditor trusts (only those are evidence:
    a witness the log registers, and the auditor does not name, may be the owner's own).

    With ``smallest`` (``verify --since``: the kept checkpoint's size), only the cosignatures of
    checkpoints from that size on, and each witness's newest of an earlier one (what the quorum
    counts when it has cosigned nothing since), so that a daily check reads that day's."""
    rows = _rows(engine, newest, smallest)
    sealed = _sealed_checkpoints(
        engine, origin, log_key, newest, smallest, {size for size, *_ in rows}
    )
    findings: list[Finding] = []
    witnessed: list[Witnessed] = []
    for size, witness, line, cosigned_text in rows:
        source = f"cosignature by {witness} of checkpoint {size}"
        try:
            log_checkpoint = sealed.get(size, (None, 0))[0]
            found = check_kept_cosignature(
                witness, line, cosigned_text, log_checkpoint, origin, accounts, ledger
            )
        except VerificationError as error:
            findings.append(Finding.of_log(error.kind, f"{source}: {error}"))
            continue
        witnessed.append(found)
    if policy is None or not policy.trusted:
        return findings, []
    cosigned = [
        CosignedTime(w.checkpoint.size, w.key.name, w.cosignature.timestamp)
        for w in witnessed
        if w.key in policy.trusted
    ]
    if not sealed:
        none = WitnessQuorumNotMet("the store holds no checkpoint for witnesses to vouch for")
        return [*findings, Finding.of_log(none.kind, str(none))], cosigned
    latest_size = max(sealed)
    latest, sealed_at = sealed[latest_size]
    for failed in check_quorum(
        latest, sealed_at, witnessed, policy.trusted, policy.quorum, policy.max_age
    ):
        findings.append(Finding.of_log(failed.kind, str(failed)))
    return findings, cosigned


def _sealed_checkpoints(
    engine: Engine,
    origin: str,
    log_key: Ed25519PublicKey,
    newest: int | None,
    smallest: int,
    cosigned: set[int],
) -> dict[int, tuple[Checkpoint, int]]:
    """The stored checkpoints up to ``newest`` whose notes the log's key signed, by size, with
    their sealing time: those from ``smallest`` on and those of the sizes ``cosigned`` (a note
    that does not verify is named by the checkpoints' own check)."""
    if newest is None:
        return {}
    size = checkpoints.c.tree_size
    with engine.connect() as connection:
        rows = connection.execute(
            select(size, checkpoints.c.note, checkpoints.c.created_at).where(
                size <= newest, or_(size >= smallest, size.in_(sorted(cosigned)))
            )
        ).all()
    sealed: dict[int, tuple[Checkpoint, int]] = {}
    for size, note, created_at in rows:
        try:
            checkpoint = verify_checkpoint(str(note), origin, log_key)
        except VerificationError:
            continue
        when = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        sealed[int(size)] = (checkpoint, int(when.timestamp()))
    return sealed


def _rows(engine: Engine, newest: int | None, smallest: int) -> list[tuple[int, str, str, str]]:
    """The cosignatures of checkpoints of ``smallest`` to ``newest``, and of each witness the
    cosignatures of its largest checkpoint below ``smallest``."""
    earlier = cosignatures.alias("earlier")
    newest_earlier = (
        select(func.max(earlier.c.tree_size))
        .where(earlier.c.witness == cosignatures.c.witness, earlier.c.tree_size < smallest)
        .scalar_subquery()
    )
    with engine.connect() as connection:
        if newest is None or not inspect(connection).has_table(cosignatures.name):
            return []
        rows = connection.execute(
            select(
                cosignatures.c.tree_size,
                cosignatures.c.witness,
                cosignatures.c.line,
                cosignatures.c.checkpoint,
            )
            .where(
                cosignatures.c.tree_size <= newest,
                or_(
                    cosignatures.c.tree_size >= smallest,
                    cosignatures.c.tree_size == newest_earlier,
                ),
            )
            .order_by(cosignatures.c.tree_size, cosignatures.c.cosigned_at)
        ).all()
    return [(int(size), str(witness), str(line), str(text)) for size, witness, line, text in rows]
