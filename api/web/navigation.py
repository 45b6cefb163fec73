"""The top navigation: the pages that exist, each shown to the people whose role may open it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, url_for

from domain.account import Account
from domain.actions import Action
from domain.errors import NotPermitted
from domain.permissions import check_role_may


@dataclass(frozen=True)
class NavigationEntry:
    """One page in the navigation: its endpoint, its English name, the action it needs."""

    endpoint: str
    name: str
    action: Action | None

    def open_to(self, account: Account) -> bool:
        """True when ``account``'s role in force may open the page (its decorator agrees)."""
        if self.action is None:
            return True
        try:
            check_role_may(account, self.action)
        except NotPermitted:
            return False
        return True


NAVIGATION: list[NavigationEntry] = []
"""The pages in the order the navigation lists them; a page module adds its own with
:func:`in_navigation` (only pages that are built are listed)."""


def in_navigation(endpoint: str, name: str, action: Action | None) -> None:
    """List the page at ``endpoint`` (``web.study``) in the navigation, as ``name``."""
    NAVIGATION.append(NavigationEntry(endpoint, name, action))


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
