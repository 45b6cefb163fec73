"""``sealtrail replay``: a subject's state as it stood at a past time or log position."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import click

from api.console.command import one_line_errors, store_command
from api.console.exits import USAGE, fail
from api.console.people import console_person, person_option
from api.schemas.fields import names_a_subject
from domain.disclosure import REPLAY, Scope
from domain.permissions import readable_subject
from domain.subject import subject_stream
from domain.wire import instant_from_wire
from infrastructure.application.disclosures import CONSOLE
from infrastructure.bootstrap import Store
from infrastructure.views.replay import Replayed, end_of_day, position_asked_in, replayer_for
from infrastructure.views.study_reports import served_study

INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@store_command
def replay_in(
    store: Store,
    acting_as: str,
    stream: str,
    as_of: datetime | None,
    position: int | None,
    as_json: bool,
) -> str:
    """The subject's stream as it stood then, printed for the person at the console once they
    may read it, and recorded as a copy handed to them."""
    reader = console_person(store, acting_as)
    # The rule of GET /v1/subjects/<id>?as_of=: a past state is the subject's clinical data.
    # Checked before replaying, so that not even when the subject was first recorded is
    # told to a person who may not read it; another site's subject reads as none at all.
    study, code = stream.split("/", 1)
    readable_subject(
        reader, stream, store.app.find_subject, lambda found: found.site,
        names_a_subject=names_a_subject(study, code),
    )  # fmt: skip
    replayed = replayer_for(store).replay(stream, as_of=as_of, position=position)
    document = replay_document(replayed)
    printed = json.dumps(document, indent=2, sort_keys=True) if as_json else replay_text(replayed)
    printed += "\n"
    store.disclosures.hand_out(
        reader.user_id, REPLAY, Scope(study, subject=code), printed.encode("utf-8"), CONSOLE
    )
    return printed


@click.command()
@click.option("--subject", "subject_code", help="The subject's study code, e.g. RP-101.")
@click.option(
    "--as-of",
    "as_of_text",
    metavar="TIME",
    help="YYYY-MM-DDTHH:MM:SSZ (UTC), or YYYY-MM-DD for the end of that day in UTC "
    "(23:59:59.999999Z): every event the store recorded at or before it.",
)
@click.option(
    "--position",
    "position_text",
    metavar="N",
    help="A log position: every event of the subject stored at or before it.",
)
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@person_option()
@one_line_errors
def replay(
    acting_as: str,
    subject_code: str | None,
    as_of_text: str | None,
    position_text: str | None,
    study: str | None,
    as_json: bool,
) -> None:
    """The subject's state as it stood then, folded from the log.

    Give --as-of or --position (one of them). The state counts the events recorded by the
    store (its own clock) at or before TIME, or stored at or before log position N.

    You act as yourself (--as, and your password from SEALTRAIL_PASSWORD or asked on a
    terminal): an auditor or a sponsor data manager replays any subject, site staff and
    monitors those of their own sites.
    """
    if not subject_code:
        fail("--subject is required", USAGE)
    if (as_of_text is None) == (position_text is None):
        fail("give one of --as-of TIME or --position N", USAGE)
    as_of = None if as_of_text is None else parse_as_of(as_of_text)
    position = None if position_text is None else parse_position(position_text)
    stream = subject_stream(served_study(study), subject_code)
    click.echo(replay_in(acting_as, stream, as_of, position, as_json), nl=False)


def parse_as_of(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ``, or a date meaning the last instant of that day in UTC."""
    try:
        if INSTANT.fullmatch(text):
            return instant_from_wire(text)
        if DAY.fullmatch(text):
            return end_of_day(date.fromisoformat(text))
    except ValueError:
        fail(f"--as-of {text!r} is not a real date and time", USAGE)
    fail(f"--as-of {text!r} is not YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD", USAGE)


def parse_position(text: str) -> int:
    """A log position: a whole number from 1."""
    position = position_asked_in(text)
    if position is None:
        fail(f"--position {text[:40]!r} is not a log position (a whole number from 1)", USAGE)
    return position


def replay_document(replayed: Replayed) -> dict[str, Any]:
    """The ``--json`` document: what it is as of, and the summary then."""
    study, subject = replayed.stream.split("/", 1)
    return {
        "study": study,
        "subject": subject,
        "as_of": replayed.as_of(),
        "summary": replayed.summary(),
    }


def replay_text(replayed: Replayed) -> str:
    """The replay for a person: what it is as of, then each part of the summary that has one."""
    as_of = replayed.as_of()
    last = as_of["last_event"]
    asked = (
        f"recorded at or before {as_of['time']}"
        if as_of["time"] is not None
        else f"stored at or before log position {as_of['position']}"
    )
    lines = [
        f"{replayed.stream} as it stood with every event {asked}",
        f"last event counted: version {last['version']}, log position {last['position']}, "
        f"recorded {last['recorded_at']}",
        "",
    ]
    for name, value in replayed.summary().items():
        if value is None or value == [] or value == {}:
            continue
        shown = value if isinstance(value, str | int | bool) else json.dumps(value, sort_keys=True)
        lines.append(f"{name}: {shown}")
    return "\n".join(lines)
