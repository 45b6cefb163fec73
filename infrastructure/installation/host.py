"""The machine under the store: its clock against an NTP server, its time zones, its free disk.

The clock's offset is asked of the NTP server named by ``SEALTRAIL_NTP_SERVER`` with ntplib
(one SNTP request, RFC 4330): within ``SEALTRAIL_CLOCK_TOLERANCE_SECONDS`` it passes. A server
that does not answer, or answers that it is not synchronised itself, fails the check: the
installation was told where its time comes from and the offset cannot be established. With no
server named the offset is not checked and the line says so, a WARN: whether and where a
machine may ask the time is the deployment's decision (a hospital network may allow one server
only), and the store records the server's own clock in every receipt, so a sponsor's IQ that
needs the offset names its server.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ntplib

from domain.protocol import PROTOCOLS
from infrastructure.installation.bounds import Bounds
from infrastructure.installation.results import CheckResult, Status, failed, passed
from infrastructure.settings import Settings

CLOCK = "clock"
TIME_ZONES = "time zones"
FREE_DISK = "free disk"
NTP_TIMEOUT_SECONDS = 2.0
NTP_VERSION = 3
UNSYNCHRONISED = 3
"""The leap indicator of a server whose own clock is not synchronised (RFC 4330, section 4)."""
TZ_DATA = Path("/usr/share/zoneinfo/tzdata.zi")


def check_clock(bounds: Bounds) -> CheckResult:
    """The clock is within the tolerance of the configured NTP server's time."""
    server = bounds.ntp_server
    if server is None:
        return CheckResult(
            CLOCK,
            Status.WARN,
            "no NTP server configured (SEALTRAIL_NTP_SERVER): the clock's offset was not checked",
        )
    try:
        answer = ntplib.NTPClient().request(
            server.host, version=NTP_VERSION, port=server.port, timeout=NTP_TIMEOUT_SECONDS
        )
    except ntplib.NTPException:
        return failed(
            CLOCK,
            f"no answer from the NTP server {server} within {NTP_TIMEOUT_SECONDS:g} s: "
            "the clock's offset is unknown",
        )
    except OSError as error:
        return failed(CLOCK, f"cannot ask the NTP server {server}: {error.strerror or error}")
    if answer.leap == UNSYNCHRONISED or not 1 <= answer.stratum <= 15:
        return failed(
            CLOCK,
            f"the NTP server {server} is not synchronised itself "
            f"(stratum {answer.stratum}, leap indicator {answer.leap})",
        )
    offset = float(answer.offset)
    said = (
        f"{offset:+.3f} s from the NTP server {server} (stratum {answer.stratum}; "
        f"bound ±{bounds.clock_tolerance_seconds} s)"
    )
    if abs(offset) > bounds.clock_tolerance_seconds:
        return failed(CLOCK, f"off by {said}")
    return passed(CLOCK, f"within bounds: {said}")


def check_time_zones() -> CheckResult:
    """Every study's and site's time zone resolves in the tz database this Python reads; says
    the database's version and the machine's own zone."""
    zones = sorted(
        {
            str(zone)
            for protocol in PROTOCOLS.values()
            for zone in (protocol.time_zone, *protocol.site_time_zones.values())
        }
    )
    now = datetime.now(UTC)
    offsets = []
    for name in zones:
        try:
            offset = now.astimezone(ZoneInfo(name)).strftime("%z")
        except ZoneInfoNotFoundError:
            return failed(TIME_ZONES, f"{name} is not in this machine's tz database")
        offsets.append(f"{name} (UTC{offset[:3]}:{offset[3:]} now)")
    local = time.tzname[0]
    return passed(
        TIME_ZONES,
        f"the studies' and sites' zones resolve with tz database {_tz_version()}: "
        f"{', '.join(offsets)}; the machine's zone is {local}; the store records times in UTC",
    )


def _tz_version() -> str:
    try:
        first = TZ_DATA.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError):
        return "(version not found)"
    return first.removeprefix("# version ").strip()


def check_free_disk(settings: Settings, bounds: Bounds) -> CheckResult:
    """The file systems of ``SEALTRAIL_HOME`` and of the SQLite file have room."""
    places = [settings.home]
    if settings.is_sqlite:
        places.append(Path(str(settings.database_url.database)).parent)
    seen: dict[int, Path] = {}
    for place in places:
        if place.exists():
            seen.setdefault(place.stat().st_dev, place)
    if not seen:
        return failed(FREE_DISK, f"{settings.home} does not exist: run 'sealtrail init'")
    least = bounds.min_free_disk_mb
    said = []
    short = []
    for place in seen.values():
        free = shutil.disk_usage(place).free // (1024 * 1024)
        said.append(f"{free} MB free under {place}")
        if free < least:
            short.append(f"{free} MB free under {place}, less than the {least} MB required")
    if short:
        return failed(FREE_DISK, "; ".join(short))
    remote = "" if settings.is_sqlite else " (the PostgreSQL server's own disk is not seen here)"
    return passed(FREE_DISK, f"{'; '.join(said)} (bound {least} MB){remote}")
