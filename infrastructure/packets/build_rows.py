"""The table of packets built in the background (:mod:`infrastructure.packets.builds`), apart
from the builder: the store creates it as it opens, and the builder's imports (matplotlib's
drawing) are paid only by a build."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, MetaData, String, Table, Text, text

metadata = MetaData()

packet_builds = Table(
    "packet_builds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester", String(100), nullable=False),
    Column("study", String(100), nullable=False),
    Column("site", String(100), nullable=True),
    Column("documents", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # host:pid of the worker whose thread builds it, and when that thread last said so.
    Column("owner", String(300), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("progress", String(200), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("failure_kind", String(100), nullable=True),
    Column("failure", Text, nullable=True),
    # One build under way per person: a second asked at once fails on the index, not on a
    # read that two workers could both pass.
    Index(
        "packet_builds_one_under_way",
        "requester",
        unique=True,
        sqlite_where=text("state = 'building'"),
        postgresql_where=text("state = 'building'"),
    ),
)
