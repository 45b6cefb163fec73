"""``sealtrail delegation ...``: the site's delegation of authority log kept at the console.

``delegate`` and ``end`` record a change signed with the signer's own key (``--as``, ``--key``,
their password checked like any login): the site's principal investigator delegates and ends
the site's tasks; an administrator designates the principal investigator (``--task
principal_investigator``) and may end any delegation. ``sealtrail report delegation-log``
prints the log of one site.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from api.console.command import one_line_errors, private_key_option, store_command
from api.console.handing_out import write_copy
from api.console.people import console_person, person_option, signatory
from api.console.report_options import DATE, OUT, day
from domain.delegation import Task
from domain.disclosure import DELEGATION_LOG, Scope
from domain.permissions import check_may_read_delegation_log
from infrastructure.application.commands import DelegateTasks, EndDelegation
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study

TASK_CHOICE = click.Choice([task.value for task in Task])


def site_code(_: click.Context, __: click.Parameter, value: str) -> str:
    """A ``--site`` value: a code (letters, digits, ``.``, ``-``, ``_``), nothing else."""
    # Here, not at the top: the API's schemas bring marshmallow, and `sealtrail report` loads
    # this module for the delegation log, which does without.
    from api.schemas.fields import is_code

    if not is_code(value):
        raise click.BadParameter(f"{value!r} is not a site code")
    return value


SITE = click.option("--site", required=True, callback=site_code, help="The site, e.g. RP.")
SIGNER = person_option("Your user id: the site's principal investigator, or an administrator")
KEY = private_key_option("signing_key", "Your Ed25519 private key (PEM); the change is signed")


@click.group()
def delegation() -> None:
    """The delegation of authority log: delegate a site's tasks, end a delegation."""


@delegation.command("delegate")
@click.argument("user_id")
@SITE
@click.option("--task", "tasks", type=TASK_CHOICE, multiple=True, required=True, help="Repeat.")
@click.option("--from", "first", type=DATE, required=True, help="First day (YYYY-MM-DD).")
@click.option("--until", "last", type=DATE, help="Last day, included (default: until ended).")
@KEY
@SIGNER
@one_line_errors
@store_command
def delegate(
    store: Store,
    user_id: str,
    site: str,
    tasks: tuple[str, ...],
    first: datetime,
    last: datetime | None,
    signing_key: Path,
    acting_as: str,
) -> None:
    """Delegate tasks at a site to USER_ID, signed with your key."""
    starts_on, ends_on = first.date(), day(last)
    command = DelegateTasks(user_id, site, tasks, starts_on, ends_on)
    store.administration.delegate_tasks(command, by=signatory(store, acting_as, signing_key))
    period = f"from {starts_on}" + (f" until {ends_on}" if ends_on else " until ended")
    click.echo(f"{user_id} is delegated {', '.join(tasks)} at {site} {period}")


@delegation.command("end")
@click.argument("user_id")
@SITE
@click.option("--reason", required=True, help="Why, recorded in the signed change.")
@KEY
@SIGNER
@one_line_errors
@store_command
def end(
    store: Store, user_id: str, site: str, reason: str, signing_key: Path, acting_as: str
) -> None:
    """End USER_ID's delegation at a site, signed with your key."""
    command = EndDelegation(user_id, site, reason)
    store.administration.end_delegation(command, by=signatory(store, acting_as, signing_key))
    click.echo(f"{user_id}'s delegation at {site} ended")


@click.command("delegation-log")
@SITE
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--format", "form", type=click.Choice(["csv", "pdf"]), required=True)
@click.option("--out", type=OUT, required=True, help="The file to write.")
@person_option()
@one_line_errors
@store_command
def delegation_log(
    store: Store, site: str, study: str | None, form: str, out: Path, acting_as: str
) -> None:
    """A site's delegation of authority log, as CSV or a signed PDF."""
    from infrastructure.documents.reports import delegation_log_copy

    reader = console_person(store, acting_as)
    check_may_read_delegation_log(reader, site)
    study_id = served_study(study)
    content = delegation_log_copy(store, site, study=study_id, form=form)
    write_copy(store, reader, DELEGATION_LOG, Scope(study_id, site=site), content, out)
