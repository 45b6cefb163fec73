"""``GET /v1/sites/<site>/delegation-log``: a site's delegation of authority log, as the CSV
file or the signed PDF that ``sealtrail report delegation-log`` writes."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.delegation import DelegationLogQuerySchema, SitePathSchema
from api.store import get_store
from domain.disclosure import DELEGATION_LOG, Scope
from domain.permissions import check_may_read_delegation_log
from infrastructure.views.study_reports import served_study

blp = Blueprint("sites", __name__, url_prefix="/v1/sites", description="Sites")

MEDIA_TYPES = {"csv": "text/csv", "pdf": "application/pdf"}


@blp.route("/<site>/delegation-log")
class DelegationLog(MethodView):
    """Who may do which of the site's tasks, for which period, delegated by whom."""

    @login_required
    @blp.arguments(SitePathSchema, location="path", as_kwargs=True)
    @blp.arguments(DelegationLogQuerySchema, location="query")
    @blp.response(200, description="The log: CSV, or a PDF signed (PAdES) by the store")
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Neither a reader of accounts nor of this site")
    @blp.alt_response(422, description="Not a site code, format or study")
    def get(self, query: dict[str, Any], site: str) -> Response:
        """The site's delegation log (administrators and auditors: any site; the site's staff,
        monitors and sponsor data managers: the sites they read)."""
        # Imported here: drawing PDFs loads reportlab, which other requests do without.
        from infrastructure.documents.reports import delegation_log_copy

        check_may_read_delegation_log(g.account, site)
        form = query["format"]
        study = served_study(query.get("study"))
        content = delegation_log_copy(get_store(), site, study=study, form=form)
        handing_out(DELEGATION_LOG, Scope(study, site=site))
        return Response(
            content,
            status=200,
            mimetype=MEDIA_TYPES[form],
            headers={"Content-Disposition": f'attachment; filename="delegation-log-{site}.{form}"'},
        )
