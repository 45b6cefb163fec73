"""How a console command ends: its exit code, and one line on stderr when it fails.

README.md's exit codes, defined once for every command: 0 success; 1 the check failed or the
request was refused (integrity broken, domain rule violated, not found); 2 wrong usage or
configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from click.exceptions import NoArgsIsHelpError

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


class OneLineUsageGroup(click.Group):
    """The root ``sealtrail`` group: click's own refusals (an unknown option, a bad value, a
    missing argument) end like every other error of the console, in one line on stderr,
    instead of click's usage block of four.

    They are caught where the root group parses its arguments and invokes its subcommand,
    which covers the parsing of every nested command; ``--help``, ``--version``, an abort
    (Ctrl-C) and a bare ``sealtrail`` (its help) end as click ends them.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _in_one_line():
            return super().invoke(ctx)


@contextmanager
def _in_one_line() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise
    except click.ClickException as error:
        said = " ".join(line.strip() for line in error.format_message().splitlines())
        hint = " (see --help)" if isinstance(error, click.UsageError) else ""
        click.echo(f"{_command_named(error)}: {said.strip()}{hint}", err=True)
        sys.exit(error.exit_code)


def _command_named(error: click.ClickException) -> str:
    """``sealtrail`` and the subcommands the refused arguments were given to."""
    context = getattr(error, "ctx", None)
    names = []
    while context is not None and context.parent is not None:
        names.append(context.info_name or "")
        context = context.parent
    return " ".join(["sealtrail", *reversed(names)])
