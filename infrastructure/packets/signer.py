"""Who may sign a packet's manifest: the rule the builder applies and the verifier checks."""

from __future__ import annotations

from domain.account import SPONSOR_ACCOUNT, Account, Role
from infrastructure.errors import PacketSignerInvalid
from infrastructure.packets.site_scope import may_sign_site_copy


def check_may_sign_packets(account: Account, site: str | None = None) -> None:
    """Only the sponsor's packet-signing account or a sponsor data manager in force signs; a
    site's own copy (``site``) may also be signed by that site's investigator in force.

    Raises:
        PacketSignerInvalid: anyone else.
    """
    if account.user_id == SPONSOR_ACCOUNT:
        return
    if site is not None and may_sign_site_copy(account, site):
        return
    if account.effective_role is not Role.SPONSOR_DATA_MANAGER:
        if site is None:
            raise PacketSignerInvalid(
                "%(user_id)s is not a sponsor data manager in force: only the sponsor's packet "
                "key or a sponsor data manager signs a packet",
                user_id=account.user_id,
            )
        raise PacketSignerInvalid(
            "%(user_id)s is not a sponsor data manager in force: only the sponsor's packet "
            "key or a sponsor data manager signs a packet, or an investigator of site %(site)s "
            "its copy",
            user_id=account.user_id,
            site=site,
        )
