"""Who may sign a packet's manifest: the rule the builder applies and the verifier checks."""

from __future__ import annotations

from domain.account import SPONSOR_ACCOUNT, Account, Role
from infrastructure.errors import PacketSignerInvalid


def check_may_sign_packets(account: Account) -> None:
    """Only the sponsor's packet-signing account or a sponsor data manager in force signs.

    Raises:
        PacketSignerInvalid: anyone else.
    """
    if account.user_id == SPONSOR_ACCOUNT:
        return
    if account.effective_role is not Role.SPONSOR_DATA_MANAGER:
        raise PacketSignerInvalid(
            f"{account.user_id} is not a sponsor data manager in force: only the sponsor's "
            "packet key or a sponsor data manager signs a packet"
        )
