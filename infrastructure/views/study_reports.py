"""Study-level reports computed from the projections (the API and the CLI share them)."""

from __future__ import annotations

from typing import Any

from domain.errors import UnknownStudy
from domain.protocol import PROTOCOLS, protocol_for
from infrastructure.views.tables import SubjectSummaryView
from projections.study_outcomes import outcome_table


def served_study(study: str | None) -> str:
    """``study`` if this store serves it; with none named, the one study it serves."""
    if study is not None:
        return protocol_for(study).study_id
    if len(PROTOCOLS) != 1:
        raise UnknownStudy(f"name the study: this store serves {', '.join(sorted(PROTOCOLS))}")
    (only,) = PROTOCOLS
    return only


def study_outcomes(views: SubjectSummaryView, study: str | None = None) -> dict[str, Any]:
    """The outcome table of a study, from its subjects' summaries."""
    study_id = served_study(study)
    return outcome_table(study_id, views.of_study(study_id), protocol_for(study_id).publication)
