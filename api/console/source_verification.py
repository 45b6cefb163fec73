"""``sealtrail report sdv``: source data verification coverage, of a subject, a site or the
study, as ``GET .../source-verification`` answers it.

Read with the permission to read clinical data: one subject (``--subject``) or one site
(``--site``) by a person of that site; every site's by a role that reads them all. A monitor
verifies a record by submitting a ``SourceVerified`` record (``sealtrail submit``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from api.console.command import one_line_errors, store_command
from api.console.handing_out import print_copy
from api.console.people import console_person, person_option
from domain.actions import Action
from domain.disclosure import SOURCE_VERIFICATION, Scope
from domain.permissions import check_may, readable_subject
from domain.subject import subject_stream
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study, source_verification
from projections.source_verification import ALL, RISK_BASED, subject_coverage


@click.command("sdv")
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--site", help="One site's subjects (default: every site).")
@click.option("--subject", help="One subject's study code.")
@click.option(
    "--all", "every_record", is_flag=True, help="Count every record, not the protocol's subset."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@person_option()
@one_line_errors
@store_command
def sdv(
    store: Store,
    study: str | None,
    site: str | None,
    subject: str | None,
    every_record: bool,
    as_json: bool,
    acting_as: str,
) -> None:
    """Source data verification coverage: records verified against source as they stand, out
    of the protocol's risk-based subset (or, with --all, of every record), and each record
    still to verify."""
    # Here, not at the top, as in api.console.audit_review: the API's schemas bring marshmallow.
    from api.schemas.fields import is_code, names_a_subject

    if site is not None and subject is not None:
        raise click.UsageError("give --site or --subject, not both")
    if site is not None and not is_code(site):
        raise click.BadParameter("a site code: letters, digits, dot, dash", param_hint="--site")
    reader = console_person(store, acting_as)
    study_id, records = served_study(study), ALL if every_record else RISK_BASED
    if subject is not None:
        found = readable_subject(
            reader, subject_stream(study_id, subject), store.app.find_subject,
            lambda s: s.site, names_a_subject=names_a_subject(study_id, subject),
        )  # fmt: skip
        coverage = subject_coverage(found, records)
        subjects, heading = [coverage], f"{subject} at site {coverage['site']}"
    else:
        check_may(reader, Action.READ_CLINICAL_DATA, site)
        coverage = source_verification(store.reads, study_id, site, records)
        subjects, heading = coverage["subjects"], f"site {site}" if site else "every site"
    printed = (
        json.dumps(coverage, indent=2, sort_keys=True)
        if as_json
        else coverage_text(study_id, heading, coverage, subjects)
    )
    scope = Scope(study_id, site=site, subject=subject)
    print_copy(store, reader, SOURCE_VERIFICATION, scope, printed + "\n")


def coverage_text(
    study: str, heading: str, coverage: dict[str, Any], subjects: list[dict[str, Any]]
) -> str:
    """Coverage for a terminal: the total, then each subject with the records to verify."""
    counted = (
        "every record"
        if coverage["kinds"] is None
        else f"risk-based: {', '.join(coverage['kinds'])}"
    )
    lines = [
        f"Source data verification of {study}, {heading} ({counted})",
        f"verified {_ratio(coverage)}",
        "",
        f"{'subject':<10}  {'site':<6}  {'verified':>9}  to verify",
    ]
    for each in subjects:
        to_verify = ", ".join(_record(record) for record in each["not_verified"]) or "-"
        lines.append(
            f"{each['subject']:<10}  {each['site']:<6}  "
            f"{each['verified']:>4}/{each['total']:<4}  {to_verify}"
        )
    return "\n".join(lines)


def _ratio(counted: dict[str, Any]) -> str:
    verified, total = counted["verified"], counted["total"]
    share = f" ({100 * verified // total}%)" if total else ""
    return f"{verified} of {total} records{share}"


def _record(record: dict[str, Any]) -> str:
    said = f"entry {record['entry']} {record['kind']}"
    if record["changed_since_verified"]:
        said += " (changed since verified)"
    elif record["fields_verified"]:
        said += f" ({', '.join(record['fields_verified'])} verified)"
    return said
