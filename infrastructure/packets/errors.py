"""Errors of building and reading packets.

Verification never raises these at its caller: each becomes a finding naming the file or the
event. Building raises them when a packet cannot honestly be made.
"""

from __future__ import annotations

from domain.errors import DomainError


class PacketMalformed(DomainError):
    """A packet's file or line cannot be read as what it must be."""

    title = "Packet malformed"


class PacketNotBuildable(DomainError):
    """The store cannot give a packet that would verify (answered 409 on the API).

    The log disagrees with its own checkpoint, or the log is empty: ``sealtrail verify`` says
    where.
    """

    title = "Packet cannot be built"


class PacketSignerInvalid(DomainError):
    """The key offered to sign a packet's manifest is not that of a sponsor whose key is in
    force (answered 403 on the API, exit 1 on the CLI)."""

    title = "Packet signer not accepted"
