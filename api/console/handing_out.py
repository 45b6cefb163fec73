"""Copies handed out at the console are recorded before they are printed or written (ICH
E6(R3) 4.2), as the API records its answers (:mod:`api.http.handing_out`).

A command that hands a person subject or personnel data, a report or a document records the
exact bytes it prints or writes in the person's disclosure log first; one that cannot record
them hands out nothing. tests/replay/test_recorded_reads.py holds every command to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from domain.account import Account
    from domain.disclosure import Scope
    from infrastructure.bootstrap import Store

# The disclosure log and the study's views are imported where a copy is handed out, not here:
# the user and key commands import this module, and ``key generate`` hands out nothing.


def personnel_data() -> Scope:
    """The scope of a copy of personnel data (accounts, their history, the logs kept of them):
    the people of every site of the study the store serves."""
    from domain.disclosure import Scope
    from infrastructure.views.study_reports import served_study

    return Scope(served_study(None))


def print_copy(store: Store, reader: Account, what: str, scope: Scope, text: str) -> None:
    """Record ``text`` as handed to ``reader``, then print it (exactly those characters)."""
    from infrastructure.application.disclosures import CONSOLE

    store.disclosures.hand_out(reader.user_id, what, scope, text.encode("utf-8"), CONSOLE)
    click.echo(text, nl=False)


def write_copy(
    store: Store, reader: Account, what: str, scope: Scope, content: bytes, out: Path
) -> None:
    """Record ``content`` as handed to ``reader``, then write it to ``out``; print the path."""
    from infrastructure.application.disclosures import CONSOLE
    from infrastructure.documents.reports import write_file

    store.disclosures.hand_out(reader.user_id, what, scope, content, CONSOLE)
    click.echo(write_file(out, content))
