"""The disclosure service: every copy of data handed to a person is recorded before it leaves.

A way in (the API, the console) builds a report, replay, packet or export, then hands its
exact bytes here with who takes it and what it holds; the copy is recorded in the person's
disclosure log (:mod:`domain.disclosure`) and only then handed out. A copy that cannot be
recorded is not handed out: the error reaches the person instead of the data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from domain.disclosure import (
    Disclosure,
    DisclosureLog,
    Scope,
    disclosure_of,
    disclosure_stream,
)
from domain.permissions import not_screened
from domain.signed import stream_id
from domain.subject import subject_stream
from infrastructure.application.reads import PAGE
from infrastructure.application.sealtrail import SealTrail
from infrastructure.application.server_logs import ServerLog

API = "api"
CONSOLE = "console"
WEB = "web"
"""The channels a copy is handed out on: the HTTP API, the console, the pages."""

HANDED_OUT = f"{DisclosureLog.CopyHandedOut.__module__}:{DisclosureLog.CopyHandedOut.__qualname__}"
"""The topic the log stores a ``CopyHandedOut`` under."""


class Disclosures:
    """Records the copies handed out, and says who took a copy of which data."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app
        self.logs = ServerLog(app, "disclosures", disclosure_stream, DisclosureLog.start)

    def hand_out(self, to: str, what: str, scope: Scope, content: bytes, channel: str) -> None:
        """Record that ``content`` (``what``, of ``scope``) is handed to the person ``to`` (a
        user id) on ``channel``.

        Raises:
            RuntimeError: the person's log is too busy to record it (nothing is handed out).
        """
        head = self.app.checkpoints.head()
        fields = {
            "user_id": to,
            "what": what,
            "study": scope.study,
            "site": scope.site,
            "subject": scope.subject,
            "channel": channel,
            "sha256": hashlib.sha256(content).hexdigest(),
            "log_size": head.size,
            "log_root": head.root.hex(),
        }
        self.logs.append(to, DisclosureLog.CopyHandedOut.kind(), fields, DisclosureLog.hand_out)

    def of(self, user_id: str) -> list[Disclosure]:
        """Every copy handed to ``user_id``, oldest first."""
        return [
            disclosure_of(event)
            for event in self.app.events.get(stream_id(disclosure_stream(user_id)))
            if isinstance(event, DisclosureLog.CopyHandedOut)
        ]

    def listed(
        self, study: str, *, user_id: str | None = None, subject: str | None = None
    ) -> list[Disclosure]:
        """The copies of ``study`` handed out, oldest first: to ``user_id`` only, or only those
        holding data of ``subject`` (its own replays and trails, its site's copies and the
        study's packets and reports).

        Raises:
            SubjectNotFound: ``subject`` names no subject of the study.
        """
        copies = self.of(user_id) if user_id is not None else list(self._every())
        copies = [copy for copy in copies if copy.scope.study == study]
        if subject is not None:
            found = self.app.find_subject(subject_stream(study, subject))
            if found is None:
                raise not_screened(subject_stream(study, subject))
            site = found.site
            copies = [copy for copy in copies if copy.scope.holds(study, site, subject)]
        return sorted(copies, key=lambda copy: copy.handed_out_at)

    def _every(self) -> Iterator[Disclosure]:
        """Every copy handed out, in log order: the log's ``CopyHandedOut`` events alone, a page
        at a time (not every account rebuilt, then each person's stream read)."""
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, PAGE, topics=(HANDED_OUT,))
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, DisclosureLog.CopyHandedOut):
                    yield disclosure_of(event)
            if len(page) < PAGE:
                return
            start = page[-1].id + 1
