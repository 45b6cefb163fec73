"""The floor of benchmarks/http_writes.py: the design card's stack doing the least a write can.

``POST /v1/events`` here does, of what sealtrail's write does, only what the mandated libraries
must do for any write: flask-smorest parses the body through sealtrail's own marshmallow
schemas (the submission, then its kind's data), eventsourcing saves one new event (a new
aggregate each time, so nothing is loaded first) with the same persistence settings (on SQLite
its writers queue for the database as sealtrail's do), and flask-smorest answers through the
receipt's schema. No authentication, no signature checked or made, no subject loaded, no
chain, no Merkle leaf, no protocol rule. Whatever sealtrail's write costs, it costs at least
this; so its rate against the trivial endpoint can be no higher than this one's.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from eventsourcing.domain import Aggregate
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint

from api.schemas.records import SubmissionSchema, typed_fields
from api.schemas.resources import ReceiptSchema
from benchmarks.baseline.plain_eventsourcing import PlainApplication, plain_env
from infrastructure.settings import Settings


class Record(Aggregate):
    """One submission, as a plain eventsourcing aggregate."""

    class Submitted(Aggregate.Created):
        kind: str
        fields: dict[str, Any]

    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        self.kind = kind
        self.fields = fields


class FloorApplication(PlainApplication):
    """The floor's application."""

    name = "StackFloor"


blp = Blueprint("events", __name__, url_prefix="/v1/events")


@blp.route("")
class Events(MethodView):
    @blp.arguments(SubmissionSchema())
    @blp.response(201, ReceiptSchema)
    def post(self, submission: dict[str, Any]) -> Any:
        event = submission["event"]
        fields = typed_fields(str(event["kind"]), event["data"])
        record = Record(kind=str(event["kind"]), fields=fields)
        (recording,) = floor_application().save(record)
        return {
            "position": recording.notification.id,
            "leaf_index": 0,
            "study": event["study"],
            "subject": event["subject"],
            "version": record.version,
            "kind": event["kind"],
            "event_hash": "0" * 64,
            "previous_hash": "0" * 64,
            "server_time": event["signed_at"],
            "server_key_id": event["key_id"],
            "server_signature": submission["signature"],
        }, 201


app = Flask(__name__)
app.config.update(
    MAX_CONTENT_LENGTH=256 * 1024,
    API_TITLE="stack floor",
    API_VERSION="1",
    OPENAPI_VERSION="3.0.3",
)
Api(app).register_blueprint(blp)


def open_floor(settings: Settings) -> FloorApplication:
    """The floor's application over ``settings``' database (its tables made if missing)."""
    return FloorApplication(env=plain_env(settings, take_turns=True))


@cache
def floor_application() -> FloorApplication:
    """The worker's application, opened on its first write (its tables exist by then)."""
    return open_floor(Settings.from_environ(os.environ))


@app.get("/v1/server-key")
def ready() -> dict[str, str]:
    """What the benchmark polls to know the server is up."""
    return {"key_id": "floor"}
