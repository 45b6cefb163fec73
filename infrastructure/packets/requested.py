"""A packet asked for by a signed-in person, over the API (``POST /v1/packets``) or on the pages
(``/packets``): who may have which built, and what its copy is of.

The whole study's packet is built for a sponsor data manager; a site's own copy (its subjects
only, issue 18, point 8) for that site's investigator, whose manifest then names them. Both are
signed with the sponsor's packet key. The caller records the copy handed out (``scope``) in the
person's disclosure log on its own channel, once the bytes are what it sends.

:func:`asked_for` checks the asking alone, so that a build run later, off the request
(:mod:`infrastructure.packets.builds`), is refused at once and not minutes later.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.account import Account
from domain.actions import Action
from domain.disclosure import Scope
from domain.permissions import check_may
from infrastructure.bootstrap import Store
from infrastructure.packets.build import Progress, build_packet
from infrastructure.packets.site_scope import INVESTIGATOR, BuiltBy
from infrastructure.views.study_reports import served_study


@dataclass(frozen=True)
class PacketAsked:
    """A packet a person may have built: what it is a copy of, whether its PDFs are drawn, and
    who asked (the investigator a site's copy names as its builder)."""

    scope: Scope
    documents: bool
    user_id: str

    @property
    def filename(self) -> str:
        """The name it is downloaded as (``sealtrail-packet.zip``, a site's copy
        ``sealtrail-packet-RP.zip``)."""
        suffix = "" if self.scope.site is None else f"-{self.scope.site}"
        return f"sealtrail-packet{suffix}.zip"


def asked_for(
    account: Account,
    *,
    study: str | None = None,
    site: str | None = None,
    documents: bool = True,
) -> PacketAsked:
    """The packet ``account`` asks for: the whole study's (``site`` None), or ``site``'s own
    copy.

    Raises:
        NotPermitted: the study's packet asked by anyone but a sponsor data manager, a site's
            copy by anyone but that site's investigator.
        UnknownStudy: the study is not served here.
    """
    if site is None:
        check_may(account, Action.BUILD_REPORTS_AND_PACKETS)
    else:
        check_may(account, Action.BUILD_SITE_COPY, site)
    return PacketAsked(Scope(served_study(study), site=site), documents, account.user_id)


def build(store: Store, asked: PacketAsked, progress: Progress | None = None) -> bytes:
    """The packet ``asked`` (whose asking :func:`asked_for` allowed), built from the log as it
    stands.

    Raises:
        PacketNotBuildable: the log is empty, or does not give its checkpoint's root.
        PacketSignerInvalid: the sponsor's packet key is not in force.
    """
    site = asked.scope.site
    return build_packet(
        store,
        study=asked.scope.study,
        documents=asked.documents,
        progress=progress,
        site_copy=None if site is None else BuiltBy(INVESTIGATOR, asked.user_id, site),
    )
