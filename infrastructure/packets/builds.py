"""Packets built in the background: asked for in one request, fetched in another.

A packet of a long log, its PDFs drawn, takes minutes; a server worker answering within one
request is cut by gunicorn's ``--timeout`` (docs/deployment.md section 4). So a build asked for
(``POST /v1/packets`` with ``Prefer: respond-async``, the pages' ``/packets``) is a row of
``packet_builds`` and a thread of the worker that asked; the thread writes the zip whole under
``$SEALTRAIL_HOME/packet-builds`` (0600), then marks the row ``ready`` with the zip's SHA-256.
Whoever asked reads its state and fetches the zip from any worker, since both are in the store
and its home, not in the process.

A worker can stop while its thread builds (a restart, gunicorn recycling or killing it): the
thread beats every :data:`HEARTBEAT_SECONDS` into the row, with its host and process, and a
build whose process is gone on this host, or whose beat is older than :data:`STALE_SECONDS`, is
read as ``failed``, interrupted, and so recorded; the person asks again.

A person has one build under way at a time (a unique index over the rows ``building``), so one
person cannot keep every worker drawing PDFs. Finished zips are kept, as the disclosure log
keeps what was handed out of them: an operator removes the folder's old files when they wish
(a build whose file is gone answers that it is, and is asked for again).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.exc import IntegrityError

from domain.account import Account
from domain.disclosure import Scope
from infrastructure.bootstrap import Store
from infrastructure.errors import (
    PacketBuildFailed,
    PacketBuildNotFound,
    PacketBuildNotYours,
    PacketBuildUnderWay,
)
from infrastructure.packets.build_rows import packet_builds
from infrastructure.packets.requested import PacketAsked, asked_for, build
from infrastructure.settings import PRIVATE_FILE, PRIVATE_FOLDER
from infrastructure.store.instants import utc
from infrastructure.whole_files import create_once
from signatures.errors import WordedError

BUILDING, READY, FAILED = "building", "ready", "failed"
HEARTBEAT_SECONDS = 5.0
"""How often a building thread says it is alive."""
STALE_SECONDS = 120.0
"""A beat this old means the process building is gone (another host's, whose process cannot be
looked up from here): many beats, so that a loaded machine's late one is not read as a death."""
INTERRUPTED = "interrupted"
"""The failure of a build whose process stopped before it ended."""
FAULT = "server-error"
"""The failure of a build that met a fault rather than a refusal (the server's log has it)."""
FOLDER = "packet-builds"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PacketBuild:
    """One packet asked for, as its row says."""

    id: str
    requester: str
    scope: Scope
    documents: bool
    state: str
    requested_at: datetime
    finished_at: datetime | None
    progress: str | None
    sha256: str | None
    failure_kind: str | None
    failure: str | None

    @property
    def asked(self) -> PacketAsked:
        """What was asked for, to check again that the asker may have it."""
        return PacketAsked(self.scope, self.documents, self.requester)


class PacketBuilds:
    """The store's packet builds: asked for, built by a thread of this process, read back."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine: Engine = store.engine
        self.folder = store.settings.home / FOLDER

    def ask(self, asked: PacketAsked) -> PacketBuild:
        """Record the build of ``asked`` (whose asking was allowed) and start it in a thread of
        this process.

        Raises:
            PacketBuildUnderWay: the person has one under way.
        """
        self._settle_interrupted(asked.user_id)
        now = datetime.now(UTC)
        build_id = str(uuid.uuid4())
        row = {
            "id": build_id,
            "requester": asked.user_id,
            "study": asked.scope.study,
            "site": asked.scope.site,
            "documents": asked.documents,
            "state": BUILDING,
            "requested_at": now,
            "owner": _this_process(),
            "heartbeat_at": now,
            "progress": "asked",
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(packet_builds.insert().values(**row))
        except IntegrityError:
            under_way = self._under_way(asked.user_id)
            raise PacketBuildUnderWay(
                "a packet build of yours is under way (%(build)s): fetch it, or wait for it "
                "to end, before asking for another",
                build=under_way or "?",
            ) from None
        worker = threading.Thread(
            target=self._run, args=(build_id, asked), name=f"packet-{build_id}", daemon=True
        )
        worker.start()
        return self.of(build_id, asked.user_id)

    def of(self, build_id: str, user_id: str) -> PacketBuild:
        """The build ``build_id`` as ``user_id`` may read it; one whose process stopped is
        recorded ``failed`` first.

        Raises:
            PacketBuildNotFound: no such build.
            PacketBuildNotYours: it was asked for by someone else.
        """
        found = self._read(build_id)
        if found is None:
            raise PacketBuildNotFound("no packet build %(build)s", build=build_id)
        if found.requester != user_id:
            raise PacketBuildNotYours("the packet build %(build)s is not yours", build=build_id)
        if found.state == BUILDING and self._settle_interrupted(user_id):
            found = self._read(build_id)
            assert found is not None
        return found

    def as_allowed(self, build_id: str, account: Account) -> tuple[PacketBuild, PacketAsked]:
        """The build ``build_id`` as ``account`` may still have it: theirs (:meth:`of`), and
        asked again as they stand now, since they may have lost the role since they asked.

        Raises:
            PacketBuildNotFound: no such build.
            PacketBuildNotYours: it was asked for by someone else.
            NotPermitted: they may no longer have this packet built.
        """
        found = self.of(build_id, account.user_id)
        scope = found.scope
        return found, asked_for(
            account, study=scope.study, site=scope.site, documents=found.documents
        )

    def zip_of(self, found: PacketBuild) -> bytes:
        """The finished zip of the build ``found``, as it was built.

        Raises:
            PacketBuildFailed: the build failed, or its file is gone or no longer the one
                built (its SHA-256 differs from the one recorded).
        """
        if found.state == FAILED:
            raise PacketBuildFailed(
                "the packet was not built (%(kind)s): %(reason)s",
                kind=found.failure_kind or "?",
                reason=found.failure or "",
            )
        try:
            data = self.path_of(found.id).read_bytes()
        except FileNotFoundError:
            raise PacketBuildFailed(
                "the packet build %(build)s was removed from the server: ask for it again",
                build=found.id,
            ) from None
        if hashlib.sha256(data).hexdigest() != found.sha256:
            raise PacketBuildFailed(
                "the file of packet build %(build)s is not the one built (its SHA-256 differs "
                "from the one recorded): ask for it again",
                build=found.id,
            )
        return data

    def path_of(self, build_id: str) -> Path:
        """Where the zip of ``build_id`` is kept."""
        return self.folder / f"{build_id}.zip"

    # -- the building thread -------------------------------------------------------------------

    def _run(self, build_id: str, asked: PacketAsked) -> None:
        done = threading.Event()
        beating = threading.Thread(
            target=self._beat, args=(build_id, done), name=f"beat-{build_id}", daemon=True
        )
        beating.start()
        try:
            data = build(self.store, asked, lambda note: self._note(build_id, note))
            self.folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            create_once(self.path_of(build_id), data, PRIVATE_FILE)
            if not self._finish(build_id, READY, sha256=hashlib.sha256(data).hexdigest()):
                # Read as interrupted meanwhile, and so answered: its zip is no one's.
                self.path_of(build_id).unlink(missing_ok=True)
        except Exception as error:
            kind, reason = type(error).__name__, str(error)[:2000]
            if not isinstance(error, WordedError):
                # Not a typed refusal but a fault: its text (paths, SQL) is for the server's
                # log, not for whoever asked, as a fault within a request is a bare 500.
                log.exception("packet build %s failed", build_id)
                kind, reason = FAULT, "the server failed while building it (its log says why)"
            try:
                self._finish(build_id, FAILED, failure_kind=kind, failure=reason)
            except Exception:
                log.exception("packet build %s: its failure could not be recorded", build_id)
        finally:
            done.set()

    def _beat(self, build_id: str, done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            try:
                self._touch(build_id, {})
            except Exception:
                log.warning("packet build %s: heartbeat not recorded", build_id)

    def _note(self, build_id: str, note: str) -> None:
        self._touch(build_id, {"progress": note[:200]})

    def _touch(self, build_id: str, values: dict[str, object]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                packet_builds.update()
                .where(*_still_building_here(build_id))
                .values(heartbeat_at=datetime.now(UTC), **values)
            )

    def _finish(self, build_id: str, state: str, **values: str) -> bool:
        with self.engine.begin() as connection:
            return (
                connection.execute(
                    packet_builds.update()
                    .where(*_still_building_here(build_id))
                    .values(state=state, finished_at=datetime.now(UTC), **values)
                ).rowcount
                > 0
            )

    # -- reading -------------------------------------------------------------------------------

    def _read(self, build_id: str) -> PacketBuild | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(packet_builds).where(packet_builds.c.id == build_id)
            ).one_or_none()
        if row is None:
            return None
        return PacketBuild(
            id=row.id,
            requester=row.requester,
            scope=Scope(row.study, site=row.site),
            documents=bool(row.documents),
            state=row.state,
            requested_at=utc(row.requested_at),
            finished_at=None if row.finished_at is None else utc(row.finished_at),
            progress=row.progress,
            sha256=row.sha256,
            failure_kind=row.failure_kind,
            failure=row.failure,
        )

    def _under_way(self, user_id: str) -> str | None:
        with self.engine.connect() as connection:
            found: str | None = connection.execute(
                select(packet_builds.c.id).where(
                    packet_builds.c.requester == user_id, packet_builds.c.state == BUILDING
                )
            ).scalar_one_or_none()
        return found

    def _settle_interrupted(self, user_id: str) -> bool:
        """Record ``failed`` the person's build under way whose process stopped; whether one
        was."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(
                    packet_builds.c.id, packet_builds.c.owner, packet_builds.c.heartbeat_at
                ).where(packet_builds.c.requester == user_id, packet_builds.c.state == BUILDING)
            ).one_or_none()
        if row is None or not _stopped(row.owner, utc(row.heartbeat_at)):
            return False
        with self.engine.begin() as connection:
            # Only if it has not beaten meanwhile: a live thread's row is left to it.
            connection.execute(
                packet_builds.update()
                .where(
                    packet_builds.c.id == row.id,
                    packet_builds.c.state == BUILDING,
                    packet_builds.c.heartbeat_at == row.heartbeat_at,
                )
                .values(
                    state=FAILED,
                    finished_at=datetime.now(UTC),
                    failure_kind=INTERRUPTED,
                    failure="the server process building it stopped before it ended: ask again",
                )
            )
        return True


def _still_building_here(build_id: str) -> tuple[ColumnElement[bool], ...]:
    """The row of ``build_id`` while this process builds it: a row read as interrupted meanwhile
    (by a reader who found its beat too old) is not brought back by a late beat or end."""
    return (
        packet_builds.c.id == build_id,
        packet_builds.c.state == BUILDING,
        packet_builds.c.owner == _this_process(),
    )


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _stopped(owner: str, heartbeat_at: datetime) -> bool:
    """Whether the process ``owner`` (``host:pid``) stopped building: gone from this host, or
    silent for :data:`STALE_SECONDS`."""
    if datetime.now(UTC) - heartbeat_at > timedelta(seconds=STALE_SECONDS):
        return True
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user has the number: it is alive
    return False
