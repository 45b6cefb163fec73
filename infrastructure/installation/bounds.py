"""What ``sealtrail check-install`` holds an installation to, from the environment.

- ``SEALTRAIL_NTP_SERVER`` (unset): the NTP server the clock is compared with, ``HOST``,
  ``HOST:PORT`` or ``[IPV6]:PORT``; unset, the clock's offset is not checked (a WARN).
- ``SEALTRAIL_CLOCK_TOLERANCE_SECONDS`` (1): the largest offset from its time that passes.
- ``SEALTRAIL_MIN_FREE_DISK_MB`` (1024): the free space that passes, on the file systems of
  ``SEALTRAIL_HOME`` and of the SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from infrastructure.errors import ConfigurationError
from infrastructure.settings import whole_number

NTP_PORT = 123


@dataclass(frozen=True)
class NtpServer:
    """Where the clock's time is asked."""

    host: str
    port: int = NTP_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Bounds:
    """The NTP server, the clock's tolerance and the free disk an installation needs."""

    ntp_server: NtpServer | None = None
    clock_tolerance_seconds: int = 1
    min_free_disk_mb: int = 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Bounds:
        """Read the variables of the module's table.

        Raises:
            ConfigurationError: one is malformed.
        """
        environ = os.environ if environ is None else environ
        raw = environ.get("SEALTRAIL_NTP_SERVER") or None
        return cls(
            ntp_server=None if raw is None else ntp_server(raw),
            clock_tolerance_seconds=whole_number(environ, "SEALTRAIL_CLOCK_TOLERANCE_SECONDS", 1),
            min_free_disk_mb=whole_number(environ, "SEALTRAIL_MIN_FREE_DISK_MB", 1024),
        )


def ntp_server(raw: str) -> NtpServer:
    """``HOST``, ``HOST:PORT`` or ``[IPV6]:PORT``.

    Raises:
        ConfigurationError: anything else.
    """
    text = raw.strip()
    host, port, well_formed = text, str(NTP_PORT), True
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        well_formed = bool(closed) and (not rest or rest.startswith(":"))
        port = rest[1:] if rest else port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if (
        not well_formed
        or not host
        or any(c.isspace() for c in host)
        or not port.isdigit()
        or not 0 < int(port) < 65536
    ):
        raise ConfigurationError(
            "SEALTRAIL_NTP_SERVER is HOST, HOST:PORT or [IPV6]:PORT, not %(raw)r", raw=raw
        )
    return NtpServer(host, int(port))
