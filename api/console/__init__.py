"""The console: ``sealtrail``, the command line of CONTRACT.md (click), one module per command
or group, each command a module-level click command.

Exit codes (:mod:`api.console.exits`): 0 success; 1 the check failed or the request was
refused; 2 wrong usage or configuration. Every error is one line on stderr, never a traceback
(:mod:`api.console.command`). The console never imports the HTTP API: ``sealtrail serve``
names ``wsgi:app`` to gunicorn. The same commands run as ``flask --app wsgi <command>``
through Flask's ``flask.commands`` entry points (pyproject.toml).
"""

from __future__ import annotations

import click

from api.console.backups import backup
from api.console.delegation import delegation
from api.console.demo import demo
from api.console.exits import OneLineUsageGroup
from api.console.initialise import init
from api.console.installation import check_install
from api.console.integrity import checkpoint, verify
from api.console.keys import key
from api.console.locks import freeze, lock, reopen, unlock
from api.console.packets import packet
from api.console.projections import project, rebuild
from api.console.replay import replay
from api.console.reports import report
from api.console.server import serve
from api.console.site_client import sign, sign_casebook, submit
from api.console.users import user
from api.console.validation import validation
from api.console.witness import witness

COMMANDS: tuple[click.Command, ...] = (
    init,
    demo,
    serve,
    verify,
    checkpoint,
    rebuild,
    project,
    backup,
    replay,
    report,
    packet,
    user,
    delegation,
    key,
    submit,
    sign,
    sign_casebook,
    freeze,
    lock,
    reopen,
    unlock,
    witness,
    validation,
    check_install,
)
"""Every command of ``sealtrail``, each also a ``flask.commands`` entry point."""


@click.group(cls=OneLineUsageGroup)
@click.version_option(package_name="sealtrail")
def main() -> None:
    """sealtrail: a signed, hash-chained event store for clinical trials."""


for command in COMMANDS:
    main.add_command(command)
