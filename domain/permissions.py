"""Who may record what: the rules of the spine (issue 5 deepens them into a full matrix)."""

from __future__ import annotations

from domain.account import Account, Role
from domain.errors import DomainError

RECORDING_ROLES = frozenset({Role.SITE_COORDINATOR, Role.INVESTIGATOR})
"""Roles that enter clinical data (administrators, auditors and monitors never do)."""


class NotPermitted(DomainError):
    """The person is authenticated but may not do this (answered 403)."""

    title = "Not permitted"


def check_may_record(actor: Account, site: str) -> None:
    """A coordinator or investigator records data for subjects of their own sites only."""
    if actor.role not in RECORDING_ROLES:
        raise NotPermitted(f"a {actor.role.value} does not enter clinical data")
    if not actor.acts_for(site):
        raise NotPermitted(f"{actor.user_id} does not act for site {site!r}")


def check_signs_as_self(actor: Account, signer_user_id: str) -> None:
    """A person submits only what they signed themselves (21 CFR 11.200(a)(2))."""
    if signer_user_id != actor.user_id:
        raise NotPermitted(
            f"authenticated as {actor.user_id!r} but the body is signed by {signer_user_id!r}"
        )


READ_EVERYTHING = frozenset({Role.AUDITOR, Role.SPONSOR_DATA_MANAGER})
READ_OWN_SITES = frozenset({Role.SITE_COORDINATOR, Role.INVESTIGATOR, Role.MONITOR})


def check_may_read(actor: Account, site: str) -> None:
    """Auditors and sponsors read every site; site staff and monitors their own only."""
    if actor.role in READ_EVERYTHING:
        return
    if actor.role not in READ_OWN_SITES:
        raise NotPermitted(f"a {actor.role.value} does not read clinical data")
    if not actor.acts_for(site):
        raise NotPermitted(f"{actor.user_id} does not act for site {site!r}")
