"""The top navigation: the pages that exist, each shown to the people whose role may open it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, url_for

from api.web.sessions import role_may
from domain.account import Account
from domain.actions import Action


@dataclass(frozen=True)
class NavigationEntry:
    """One page in the navigation: its endpoint, its English name, the actions it needs (one
    of them; none: every signed-in person's page)."""

    endpoint: str
    name: str
    actions: tuple[Action, ...]
    order: int

    def open_to(self, account: Account) -> bool:
        """True when ``account``'s role in force may open the page (its decorator agrees)."""
        return not self.actions or any(role_may(account, action) for action in self.actions)


NAVIGATION: list[NavigationEntry] = []
"""The pages the navigation lists, in their order; a page module adds its own with
:func:`in_navigation` (only pages that are built are listed)."""

ORDER = {
    "web.study": 10,
    "web.subjects": 20,
    "web.audit": 30,
    "web.queries": 40,
    "web.sign_records": 50,
    "web.delegation": 55,
    "web.verify": 60,
    "web.packets": 70,
    "web.admin": 80,
    "web.access_review": 82,
    "web.account": 90,
}
"""Where each page of the contract stands in the navigation (docs/pages.md)."""


def in_navigation(endpoint: str, name: str, action: Action | None, *or_else: Action) -> None:
    """List the page at ``endpoint`` (``web.study``) in the navigation, as ``name`` (English,
    translated on the page), for the people whose role does ``action`` or one of ``or_else``."""
    actions = () if action is None else (action, *or_else)
    NAVIGATION.append(NavigationEntry(endpoint, name, actions, ORDER.get(endpoint, 85)))
    NAVIGATION.sort(key=lambda entry: entry.order)


def home_of(account: Account) -> str:
    """The URL of the first page of the navigation ``account``'s role opens (their account's,
    which every signed-in person opens, when no other)."""
    for entry in NAVIGATION:
        if entry.open_to(account):
            return url_for(entry.endpoint)
    return url_for("web.account")


def navigation() -> list[tuple[str, str, bool]]:
    """The signed-in person's navigation: (URL, name, whether it is the page shown)."""
    account = g.get("account")
    if account is None:
        return []
    return [
        (url_for(entry.endpoint), entry.name, request.endpoint == entry.endpoint)
        for entry in NAVIGATION
        if entry.open_to(account)
    ]


def install(app: Flask) -> None:
    """``navigation()`` in every template."""
    app.jinja_env.globals["navigation"] = navigation
