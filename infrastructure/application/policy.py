"""The access policy of 21 CFR 11.300: lockout threshold, inactivity timeout, password ageing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from infrastructure.settings import whole_number


@dataclass(frozen=True)
class AccessPolicy:
    """The 11.300 settings: lockout threshold, inactivity timeout, password ageing."""

    lockout_after: int = 5
    idle_timeout: timedelta = timedelta(minutes=10)
    password_max_age: timedelta = timedelta(days=90)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> AccessPolicy:
        """``SEALTRAIL_LOCKOUT_AFTER``, ``SEALTRAIL_IDLE_TIMEOUT_SECONDS``,
        ``SEALTRAIL_PASSWORD_MAX_AGE_DAYS``.

        Raises:
            ConfigurationError: a value is not a whole number of at least 1.
        """
        environ = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            lockout_after=whole_number(environ, "SEALTRAIL_LOCKOUT_AFTER", defaults.lockout_after),
            idle_timeout=timedelta(
                seconds=whole_number(
                    environ,
                    "SEALTRAIL_IDLE_TIMEOUT_SECONDS",
                    int(defaults.idle_timeout.total_seconds()),
                )
            ),
            password_max_age=timedelta(
                days=whole_number(
                    environ, "SEALTRAIL_PASSWORD_MAX_AGE_DAYS", defaults.password_max_age.days
                )
            ),
        )
