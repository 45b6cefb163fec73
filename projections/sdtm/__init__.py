"""Tabular datasets in the shape of CDISC SDTM domains, and their data dictionary.

Five datasets derived by rules, each a pure function of the subjects as they stand (every
correction applied, voided entries left out), named and coded after the SDTM Implementation
Guide 3.1.3:

- ``DM.csv`` Demographics: one row per screened subject;
- ``EX.csv`` Exposure: one row per rATG dose, per cyclosporine dosing interval and per MSC
  infusion;
- ``LB.csv`` Laboratory Test Results: one row per analyte of a blood count, and one per
  cyclosporine trough;
- ``AE.csv`` Adverse Events: one row per adverse event, as its follow-ups left it;
- ``DS.csv`` Disposition: one row per consent, enrolment, screen failure, withdrawal, death
  and end of study.

and one more per domain that record kinds map their items to and no rule derives (RS for a
performance status), read from their declarations alone (:mod:`projections.sdtm.findings`)
and written when it has rows.

They are *shaped like* SDTM, not a validated submission: what sealtrail does not record (a
MedDRA code, a dose form it cannot know) is left empty rather than guessed, and what SDTM would
place in a supplemental qualifier dataset (relatedness to rATG and cyclosporine, the MSC donor
code) is not written. :func:`data_dictionary` says, for every variable, which record kind and
field it comes from and the rule that derives it.

Traceability: every row of EX, LB, AE and DS names in its ``--SPID`` the entries of the
subject's stream it comes from (``NCT01297972/<SUBJID>``, entry = the event's version), so an
auditor can open each signed event; DM's values come from the Screened entry (always entry 1)
and from the records the DS and EX rows name.

The bytes are deterministic: rows sorted by USUBJID, then by their date and entry, numbered
``--SEQ`` in that order; values as signed (decimals keep the author's digits, no float
formatting); dates in ISO 8601 in the site's calendar (an instant in the site's local time,
without offset); UTF-8 CSV written by :mod:`csv` with ``\\r\\n`` line ends, like the audit
trail's, but without its byte-order mark, because these files are read by programs (SAS, R,
pandas), which would take the mark into the first column's name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from domain.subject import Subject
from projections.sdtm.ae import AE, adverse_events
from projections.sdtm.declared import sources
from projections.sdtm.dictionary import DICTIONARY_COLUMNS, Dataset
from projections.sdtm.dm import DM, demographics
from projections.sdtm.ds import DS, disposition
from projections.sdtm.ex import EX, exposure
from projections.sdtm.findings import DECLARED_DATASETS, RULED_DATASETS, findings
from projections.sdtm.lb import LB, laboratory_results
from projections.sdtm.rows import Row, csv_file, row, usubjid

__all__ = ["EVERY_DATASET", "data_dictionary", "sdtm_datasets", "usubjid"]

EVERY_DATASET: tuple[Dataset, ...] = (*RULED_DATASETS, *DECLARED_DATASETS)
"""The datasets by rule, then those read from declarations, in the dictionary's order."""


def sdtm_datasets(subjects: Sequence[Subject]) -> dict[str, bytes]:
    """The datasets of the subjects as they stand, as CSV files by name.

    Args:
        subjects: every subject to include, folded from their events (any order).

    Returns:
        ``{"DM.csv": ..., "EX.csv": ..., "LB.csv": ..., "AE.csv": ..., "DS.csv": ...}`` and
        a file per declared dataset that has rows (a domain nothing was recorded for is not
        submitted, as the FDA's Study Data Technical Conformance Guide asks); the same
        subjects always give the same bytes.
    """
    ordered = sorted(subjects, key=usubjid)
    builders: tuple[tuple[Dataset, Callable[[Subject], list[Row]]], ...] = (
        (DM, lambda subject: [demographics(subject)]),
        (EX, exposure),
        (LB, laboratory_results),
        (AE, adverse_events),
        (DS, disposition),
    )
    files = {
        dataset.file_name: csv_file(dataset.columns, [line for s in ordered for line in build(s)])
        for dataset, build in builders
    }
    for dataset in DECLARED_DATASETS:
        rows = [line for subject in ordered for line in findings(subject, dataset)]
        if rows:
            files[dataset.file_name] = csv_file(dataset.columns, rows)
    return files


def data_dictionary(recorded: Collection[str] | None = None) -> bytes:
    """The data dictionary of the datasets as CSV: a row per dataset, then one per variable.

    A dataset's row has an empty ``variable`` and gives its structure and sort order; each
    variable's row gives its label, type, controlled terms or units, the sealtrail record
    kind and field it comes from, and the rule deriving it.

    Args:
        recorded: the record kinds a packet's log records: a dataset only kinds declared
            since packets were published fill (``Record.DESCRIBED_WHEN_RECORDED``) is described
            when one of them is recorded; ``None`` describes every dataset.
    """
    rows: list[Row] = []
    for dataset in (d for d in EVERY_DATASET if recorded is None or _described(d, recorded)):
        rows.append(
            row(
                DICTIONARY_COLUMNS,
                dataset=dataset.file_name,
                label=dataset.label,
                origin=f"SDTMIG {dataset.sdtmig} domain {dataset.domain}",
                derivation=dataset.structure,
            )
        )
        for variable in dataset.variables:
            rows.append(
                row(
                    DICTIONARY_COLUMNS,
                    dataset=dataset.file_name,
                    variable=variable.name,
                    label=variable.label,
                    type=variable.type,
                    controlled_terms_or_units=variable.terms,
                    origin=variable.origin,
                    derivation=variable.derivation,
                )
            )
    return csv_file(DICTIONARY_COLUMNS, rows)


def _described(dataset: Dataset, recorded: Collection[str]) -> bool:
    """A dataset a packet's dictionary describes: ruled, or filled by a kind described."""
    if dataset not in DECLARED_DATASETS:
        return True
    return any(
        not source.kind.DESCRIBED_WHEN_RECORDED or source.kind.kind() in recorded
        for source in sources(dataset.domain)
    )
