"""The baseline of benchmarks/http_writes.py: a trivial Flask endpoint, served as sealtrail is.

``POST /v1/events`` parses the JSON body and answers 201 with a receipt-sized JSON object:
the HTTP, WSGI and JSON work of a write, and nothing of what sealtrail does with it. It lives in
a folder of its own because gunicorn puts the app's folder first on ``sys.path``, and the
benchmark's own file, ``http.py``, would hide the standard library's ``http`` package there.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 256 * 1024


@app.post("/v1/events")
def record() -> tuple[dict[str, Any], int]:
    """Parse the submission and answer as sealtrail's receipt does (same size, no work)."""
    body = request.get_json()
    event = body["event"]
    return {
        "position": 1,
        "leaf_index": 0,
        "study": event["study"],
        "subject": event["subject"],
        "version": 1,
        "kind": event["kind"],
        "event_hash": "0" * 64,
        "previous_hash": "0" * 64,
        "server_time": event["signed_at"],
        "server_key_id": event["key_id"],
        "server_signature": body["signature"],
    }, 201


@app.get("/v1/server-key")
def ready() -> dict[str, str]:
    """What the benchmark polls to know the server is up (as it polls sealtrail)."""
    return {"key_id": "baseline"}
