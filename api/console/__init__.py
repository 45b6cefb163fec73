"""The console: ``sealtrail``, README.md's command line (click), one module per command
or group, each command a module-level click command.

Exit codes (:mod:`api.console.exits`): 0 success; 1 the check failed or the request was
refused; 2 wrong usage or configuration. Every error is one line on stderr, never a traceback
(:mod:`api.console.command`). The console never imports the HTTP API: ``sealtrail serve``
names ``wsgi:app`` to gunicorn. The same commands run as ``flask --app wsgi <command>``
through Flask's ``flask.commands`` entry points (pyproject.toml).

Each call imports only the module of the command it runs (:class:`LazyGroup`): importing
every command's module, with the store, the domain and the validation matrix behind them,
cost over a second of CPU before ``sealtrail --version`` printed a line.
"""

from __future__ import annotations

import importlib

import click

from api.console.exits import OneLineUsageGroup

COMMANDS: dict[str, str] = {
    "init": "api.console.initialise:init",
    "demo": "api.console.demo:demo",
    "serve": "api.console.server:serve",
    "verify": "api.console.integrity:verify",
    "checkpoint": "api.console.integrity:checkpoint",
    "rebuild": "api.console.projections:rebuild",
    "project": "api.console.projections:project",
    "backup": "api.console.backups:backup",
    "replay": "api.console.replay:replay",
    "report": "api.console.reports:report",
    "packet": "api.console.packets:packet",
    "user": "api.console.users:user",
    "delegation": "api.console.delegation:delegation",
    "key": "api.console.keys:key",
    "submit": "api.console.site_client:submit",
    "sign": "api.console.site_client:sign",
    "sign-casebook": "api.console.site_client:sign_casebook",
    "freeze": "api.console.locks:freeze",
    "lock": "api.console.locks:lock",
    "reopen": "api.console.locks:reopen",
    "unlock": "api.console.locks:unlock",
    "witness": "api.console.witness:witness",
    "validation": "api.console.validation:validation",
    "check-install": "api.console.installation:check_install",
}
"""Every command of ``sealtrail`` by name, as ``module:attribute``: the same as its
``flask.commands`` entry point (pyproject.toml)."""


def load_command(name: str) -> click.Command:
    """The command ``name`` of :data:`COMMANDS`, its module imported now."""
    module_name, attribute = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name]} is not a click command")
    return command


def every_command() -> dict[str, click.Command]:
    """Every command of ``sealtrail`` by name, all their modules imported (what ``--help``
    lists, and what the tests compare with the ``flask.commands`` entry points)."""
    return {name: load_command(name) for name in COMMANDS}


class LazyGroup(OneLineUsageGroup):
    """The root group, whose commands are imported only when one is invoked or ``--help``
    lists them (click's lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None


@click.group(cls=LazyGroup)
@click.version_option(package_name="sealtrail")
def main() -> None:
    """sealtrail: a signed, hash-chained event store for clinical trials."""
