"""How a console command ends: its exit code, and one line on stderr when it fails.

The codes of CONTRACT.md, defined once for every command: 0 success; 1 the check failed or the
request was refused (integrity broken, domain rule violated, not found); 2 wrong usage or
configuration.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

REFUSED = 1
"""The check failed or the request was refused."""
USAGE = 2
"""Wrong usage or configuration."""


class UsageError(Exception):
    """Wrong usage found after the options were parsed (a missing password, a bad key file)."""


def fail(message: str, code: int) -> NoReturn:
    """One line on stderr and exit with ``code``."""
    click.echo(f"sealtrail: {message}", err=True)
    sys.exit(code)
