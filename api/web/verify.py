"""``/verify``: the log checked in the person's browser (issue 19, point 8).

The page shows what the server says: the latest checkpoint, a checkpoint the person posts (read
and checked by the server), an event's inclusion proof; each marked as not checked in the
browser. Its script (static/js/verify-page.js) then checks them in the browser, asking the JSON
routes below for the data, with the same session; docs/pages.md says what it checks and what not.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from api.web import log_evidence
from api.web.blueprint import web
from api.web.forms import EventPositionForm, KeptCheckpointForm
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.actions import Action
from domain.wire import instant_to_wire
from infrastructure.errors import ProofNotAvailable
from signatures.errors import CheckpointMalformed

MAX_SIZE = 2**63 - 1
"""The largest tree size or log position asked for (64-bit signed, as the databases hold them)."""


@web.route("/verify", methods=["GET", "POST"])
@page_for(Action.READ_LOG_EVIDENCE)
def verify() -> Response | str:
    """The latest checkpoint; a kept one (POST) and an event (``?position=N``) as the server
    sees them, for the page's script to check in the browser."""
    form = KeptCheckpointForm()
    kept = None
    if form.validate_on_submit():
        kept = _kept(form)
    asked = EventPositionForm(request.args if "position" in request.args else None)
    event, copy = None, None
    if "position" in request.args and asked.validate():
        try:
            event, copy = log_evidence.event_evidence(int(asked.position.data), None)
        except ProofNotAvailable as missing:
            asked.position.errors = [worded(missing)]
    page = render_template(
        "verify.html",
        form=form,
        asked=asked,
        latest=log_evidence.latest_checkpoint(),
        kept=kept,
        event=event,
    )
    return page if copy is None else handed_out(page, *copy)


def _kept(form: KeptCheckpointForm) -> dict[str, Any] | None:
    """What the server says of the checkpoint posted; None, with the form's error, if it is
    none."""
    try:
        note = form.note()
        if note is None:
            form.checkpoint.errors = [_("Paste a checkpoint or choose its file")]
            return None
        return log_evidence.kept_checkpoint(note)
    except CheckpointMalformed as malformed:
        # The reason may quote the note: the form macros show it as text (filter ``translated``).
        reason = _("This is not a signed checkpoint: %(reason)s", reason=worded(malformed))
        form.checkpoint.errors = [reason]
    except ProofNotAvailable:
        form.form_errors.append(_("No checkpoint has been sealed yet."))
    return None


@web.get("/verify/evidence/latest")
@page_for(Action.READ_LOG_EVIDENCE)
def latest_evidence() -> tuple[Response, int]:
    """The latest signed checkpoint and the server's key (JSON, for the page's script)."""
    latest = log_evidence.latest_checkpoint()
    if latest is None:
        return refusal(404, "no checkpoint has been sealed yet")
    return jsonify({**latest, "sealed_at": instant_to_wire(latest["sealed_at"])}), 200


@web.get("/verify/evidence/consistency")
@page_for(Action.READ_LOG_EVIDENCE)
def consistency_evidence() -> tuple[Response, int]:
    """The consistency proof ``?from=N&to=M`` (JSON, for the page's script)."""
    try:
        old_size, new_size = whole(request.args, "from"), whole(request.args, "to")
        return jsonify(log_evidence.consistency(old_size, new_size)), 200
    except ValueError as wrong:
        return refusal(400, str(wrong))
    except ProofNotAvailable as missing:
        return refusal(404, worded(missing))


@web.get("/verify/evidence/event")
@page_for(Action.READ_LOG_EVIDENCE)
def event_evidence() -> tuple[Response, int]:
    """The event at ``?position=N``, its inclusion proof in the tree of ``&tree_size=M`` (JSON,
    for the page's script); its content only to a person who may read it, recorded as a copy."""
    try:
        position = whole(request.args, "position", least=1)
        sized = "tree_size" in request.args
        tree_size = whole(request.args, "tree_size", least=1) if sized else None
        evidence, copy = log_evidence.event_evidence(position, tree_size)
    except ValueError as wrong:
        return refusal(400, str(wrong))
    except ProofNotAvailable as missing:
        return refusal(404, worded(missing))
    answer = jsonify(evidence)
    if copy is not None:
        handed_out(answer.get_data(as_text=True), *copy)
    return answer, 200


def whole(args: MultiDict[str, str], name: str, *, least: int = 0) -> int:
    """The query parameter ``name`` as a whole number from ``least``.

    Raises:
        ValueError: it is missing, or not such a number.
    """
    text = args.get(name, "")
    if not text.isascii() or not text.isdigit() or not least <= int(text) <= MAX_SIZE:
        raise ValueError(f"{name} is a whole number from {least}")
    return int(text)


def refusal(status: int, detail: str) -> tuple[Response, int]:
    """A refusal the page's script can read: JSON, with what went wrong."""
    return jsonify({"status": status, "detail": detail}), status


in_navigation("web.verify", "Verify", Action.READ_LOG_EVIDENCE)
