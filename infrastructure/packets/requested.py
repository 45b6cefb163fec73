"""A packet asked for by a signed-in person, over the API (``POST /v1/packets``) or on the pages
(``/packets``): who may have which built, and what its copy is of.

The whole study's packet is built for a sponsor data manager; a site's own copy (its subjects
only, issue 18, point 8) for that site's investigator, whose manifest then names them. Both are
signed with the sponsor's packet key. The caller records the copy handed out (``scope``) in the
person's disclosure log on its own channel, once the bytes are what it sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.account import Account
from domain.actions import Action
from domain.disclosure import Scope
from domain.permissions import check_may
from infrastructure.bootstrap import Store
from infrastructure.packets.build import build_packet
from infrastructure.packets.site_scope import INVESTIGATOR, BuiltBy
from infrastructure.views.study_reports import served_study


@dataclass(frozen=True)
class RequestedPacket:
    """A packet built for a person: its bytes, what it is a copy of, and the name it is
    downloaded as (``sealtrail-packet.zip``, a site's copy ``sealtrail-packet-RP.zip``)."""

    data: bytes
    scope: Scope
    filename: str


def build_for(
    store: Store,
    account: Account,
    *,
    study: str | None = None,
    site: str | None = None,
    documents: bool = True,
) -> RequestedPacket:
    """The whole study's packet (``site`` None), or ``site``'s own copy, built for ``account``.

    Raises:
        NotPermitted: the study's packet asked by anyone but a sponsor data manager, a site's
            copy by anyone but that site's investigator.
        UnknownStudy: the study is not served here.
        PacketNotBuildable: the log is empty, or does not give its checkpoint's root.
    """
    if site is None:
        check_may(account, Action.BUILD_REPORTS_AND_PACKETS)
    else:
        check_may(account, Action.BUILD_SITE_COPY, site)
    study_id = served_study(study)
    data = build_packet(
        store,
        study=study_id,
        documents=documents,
        site_copy=None if site is None else BuiltBy(INVESTIGATOR, account.user_id, site),
    )
    suffix = "" if site is None else f"-{site}"
    return RequestedPacket(data, Scope(study_id, site=site), f"sealtrail-packet{suffix}.zip")
