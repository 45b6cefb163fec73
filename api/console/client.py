"""The site client behind ``sealtrail submit``, ``sealtrail sign`` and ``sealtrail
sign-casebook``: sign an event (or an electronic signature over records, or over a subject's
whole casebook) and send it, over plain HTTP(S).

Only the standard library speaks HTTP here, so a site needs nothing but this package.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urljoin, urlsplit
from urllib.request import Request, urlopen

import click

from api.console.exits import REFUSED, USAGE
from domain.wire import instant_to_wire
from signatures.authorship import sign_body
from signatures.errors import KeyFormatError, VerificationError
from signatures.keys import key_id, private_key_from_pem, public_key_from_text
from signatures.receipts import verify_receipt

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

RETRIES = 3
PACKET_TIMEOUT = 1800.0
"""Seconds a packet's build may take before the client gives up waiting."""
EVENT_FIELDS = ("study", "subject", "kind", "data")


@dataclass(frozen=True)
class Sender:
    """Whom the site's client signs as (``user_id``, with the private key in ``key_file``), and
    the store's base ``url`` it sends to."""

    url: str
    user_id: str
    key_file: Path
    password: str | None = None
    """The person's password; None: read from ``SEALTRAIL_PASSWORD``, or asked on a terminal."""
    session: Session | None = None
    """Keep the first sign-in's session for the sender's later calls (a scripted run of many
    calls); None: each call signs in anew, as each run of a command is a session of its own."""


@dataclass
class Session:
    """A sender's session once signed in: the bearer header and the account (``GET /v1/me``),
    and the server's public key once a receipt was checked with it."""

    headers: dict[str, str] | None = None
    me: dict[str, Any] | None = None
    server_key: str | None = None
    """The key ``GET /v1/server-key`` published, kept for the session's later receipts (a
    scripted run of a thousand writes read it a thousand times otherwise); fetched again when
    a receipt does not verify with it, in case the server's key was rotated meanwhile."""


class ClientError(Exception):
    """A failed submission, with the exit code it deserves (and the HTTP status, if any)."""

    def __init__(self, message: str, exit_code: int, status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status


def read_event(handle: TextIO) -> dict[str, Any]:
    """Read the event file: ``study``, ``subject``, ``kind`` and ``data``; and ``version``, the
    version of the subject's stream the event takes, if the author fixes it (else it is the
    next one when the event is signed)."""
    try:
        event = json.load(handle)
    except json.JSONDecodeError as error:
        raise ClientError(f"{handle.name} is not JSON: {error}", USAGE) from None
    if not isinstance(event, dict) or not set(EVENT_FIELDS) <= set(event):
        raise ClientError(f"{handle.name} needs {', '.join(EVENT_FIELDS)}", USAGE)
    version = event.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ClientError(f"{handle.name}: version is a whole number, not {version!r}", USAGE)
    fields = EVENT_FIELDS if version is None else (*EVENT_FIELDS, "version")
    return {name: event[name] for name in fields}


def submit(
    sender: Sender, *, meaning: str, idempotency_key: str | None, event: dict[str, Any]
) -> dict[str, Any]:
    """Sign ``event`` as the sender and submit it; returns the verified receipt."""
    private_key = _private_key(sender.key_file)
    base = sender.url.rstrip("/")
    headers, me = _session(sender)
    if "version" not in event:
        # The author signs the place the event takes: the next version of the subject's stream.
        history = _history(base, headers, str(event["study"]), str(event["subject"]))
        event = {**event, "version": _next_version(history)}
    body, signature = _signed(event, me, private_key, meaning)
    headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    receipt = _call(
        "POST", f"{base}/v1/events", {"event": body, "signature": signature}, headers, retry=True
    )
    check_receipt(base, receipt, sender.session)
    return receipt


Signing = tuple[dict[str, Any], list[dict[str, Any]]]
"""The ``data`` of a signature over records, and the records it signs (entry, kind, hash)."""


def sign_records(
    sender: Sender,
    *,
    study: str,
    subject: str,
    entries: Sequence[int],
    meaning: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Sign records of a subject as the sender (21 CFR 11.50, 11.200) through the API.

    Reads each record's hash as it stands from the subject's history, signs a
    ``RecordsSigned`` body over them with the key, and sends it to ``POST /v1/signatures``
    with the user id and the password re-entered (each run is a session of its own, so it is
    always its first signing). Returns the verified receipt, the ceremony and what was signed.
    """

    def chosen(history: list[Any]) -> Signing:
        by_entry = {item["version"]: item for item in history}
        missing = [str(entry) for entry in entries if entry not in by_entry]
        if missing:
            raise ClientError(f"{study}/{subject} has no entry {', '.join(missing)}", REFUSED)
        signed = [_signed_record(by_entry[entry]) for entry in dict.fromkeys(entries)]
        return {"entries": _covered(signed)}, signed

    # Here, not at the top: every console command imports this module (for ClientError), and
    # the subject's aggregate brings the whole protocol with it.
    from domain.subject import Subject

    return _ceremony(
        sender, (study, subject), Subject.RecordsSigned.kind(), chosen, meaning, idempotency_key
    )


def sign_casebook(
    sender: Sender,
    *,
    study: str,
    subject: str,
    milestone: str,
    meaning: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Sign a subject's whole casebook at a milestone as the sender, through the API.

    Reads the subject's history: its state hash (the latest event's chain hash) and every live
    record (not a change, signature or query about others) with its record hash as it stands;
    signs a ``CasebookSigned`` body over them and sends it as :func:`sign_records` does.
    """

    # Here, not at the top, as in sign_records.
    from domain.subject import ABOUT_RECORDS, Subject

    def whole(history: list[Any]) -> Signing:
        if not history:
            raise ClientError(f"{study}/{subject} has no records", REFUSED)
        signed = [
            _signed_record(item)
            for item in history
            if item["kind"] not in ABOUT_RECORDS and item.get("voided_by") is None
        ]
        latest = max(history, key=lambda item: int(item["version"]))
        data = {"milestone": milestone, "state_hash": latest["event_hash"]}
        return {**data, "entries": _covered(signed)}, signed

    return _ceremony(
        sender, (study, subject), Subject.CasebookSigned.kind(), whole, meaning, idempotency_key
    )


def _signed_record(item: dict[str, Any]) -> dict[str, Any]:
    return {"entry": item["version"], "kind": item["kind"], "record_hash": item["record_hash"]}


def _covered(signed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"entry": s["entry"], "record_hash": s["record_hash"]} for s in signed]


def _ceremony(
    sender: Sender,
    where: tuple[str, str],
    kind: str,
    signing: Callable[[list[Any]], Signing],
    meaning: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Sign what ``signing`` makes of the subject's history, as a ``kind`` body, and send it
    to ``POST /v1/signatures`` with the user id and the password re-entered."""
    study, subject = where
    private_key = _private_key(sender.key_file)
    password = _password(sender)
    base = sender.url.rstrip("/")
    headers, me = _session(sender, password)
    history = _history(base, headers, study, subject)
    data, signed = signing(history)
    record = {
        "study": study,
        "subject": subject,
        "version": _next_version(history),
        "kind": kind,
        "data": data,
    }
    body, signature = _signed(record, me, private_key, meaning)
    headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    answer = _call(
        "POST",
        f"{base}/v1/signatures",
        {"event": body, "signature": signature, "password": password, "user_id": sender.user_id},
        headers,
        retry=True,
    )
    check_receipt(base, answer["receipt"], sender.session)
    return {**answer, "signed": signed}


def history(sender: Sender, study: str, subject: str) -> list[Any]:
    """The subject's history as the sender may read it through the API (``GET
    .../history``): each entry with its position, version, kind, data, signed body and hashes."""
    return _history(sender.url.rstrip("/"), _session(sender)[0], study, subject)


def session_headers(sender: Sender) -> dict[str, str]:
    """A bearer header for the sender, signed in with their password."""
    return _session(sender)[0]


def change_password(url: str, user_id: str, current: str, new: str) -> None:
    """Change a person's own password through the API (``POST /v1/auth/password``), as at the
    first use of a one-time password: it answers no content."""
    payload = {"username": user_id, "password": current, "new_password": new}
    request = Request(  # noqa: S310
        f"{url.rstrip('/')}/v1/auth/password",
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    _fetch(request, expect_json=False)


def public_document(url: str) -> dict[str, Any]:
    """The JSON object a public endpoint (no session) answers at ``url``."""
    return _call("GET", url)


def fetch_packet(url: str, payload: dict[str, Any], headers: dict[str, str]) -> bytes:
    """Ask ``url`` (``POST /v1/packets``) for a packet built in the background (``Prefer:
    respond-async``) and return its zip's bytes as sent, unparsed, once built: its state is
    asked at its ``Location`` every ``Retry-After`` seconds, for at most
    :data:`PACKET_TIMEOUT` seconds.

    Built in the background, a packet is not cut by the server worker's timeout, which a packet
    of a long log, its PDFs drawn, exceeds."""
    request = Request(  # noqa: S310
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={**headers, "Content-Type": "application/json", "Prefer": "respond-async"},
    )
    status, answer_headers, answer = _exchange(request)
    if status == 200:  # a server that builds within the request
        return answer
    location = answer_headers.get("Location")
    if status != 202 or not location:
        raise ClientError(f"{url} answered {status} without a build to follow", REFUSED, status)
    build = urljoin(url, location)
    if urlsplit(build)[:2] != urlsplit(url)[:2]:
        # The headers carry the person's token: they go to the server asked, nowhere else.
        raise ClientError(f"{url} sent its build to another server ({build})", REFUSED, status)
    return packet_when_built(build, headers)


def packet_when_built(build: str, headers: dict[str, str]) -> bytes:
    """The zip of the packet build at ``build`` (``GET /v1/packets/<id>``), asked every
    ``Retry-After`` seconds while it answers 202, for at most :data:`PACKET_TIMEOUT` seconds; a
    build that failed is a :class:`ClientError` with the problem's line."""
    deadline = time.monotonic() + PACKET_TIMEOUT
    while True:
        status, answer_headers, answer = _exchange(
            Request(build, method="GET", headers=headers)  # noqa: S310
        )
        if status == 200:
            return answer
        if status != 202:
            raise ClientError(f"{build} answered {status}", REFUSED, status)
        if time.monotonic() > deadline:
            raise ClientError(
                f"the packet was not built within {PACKET_TIMEOUT:.0f} s ({build})", REFUSED
            )
        time.sleep(_retry_after(answer_headers.get("Retry-After")))


def _exchange(request: Request) -> tuple[int, Message, bytes]:
    """The status, headers and bytes the server answers ``request`` with (a success: a
    refusal is a :class:`ClientError` with the problem's line)."""
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), response.headers, response.read()
    except HTTPError as error:
        raise ClientError(_problem_line(error), REFUSED, error.code) from None
    except (URLError, ConnectionError, TimeoutError) as error:
        raise ClientError(f"cannot reach {request.full_url}: {error}", USAGE) from None


def _retry_after(value: str | None) -> float:
    """Seconds to wait before asking a build's state again: the server's ``Retry-After``
    (seconds), kept between 1 and 30."""
    try:
        seconds = float(value or 5)
    except ValueError:
        seconds = 5.0
    return min(max(seconds, 1.0), 30.0)


def _history(base: str, headers: dict[str, str], study: str, subject: str) -> list[Any]:
    """The subject's history as the store holds it (the log, not a view that may lag); empty
    for a subject not yet screened."""
    path = f"/v1/studies/{quote(study, safe='')}/subjects/{quote(subject, safe='')}/history"
    try:
        history = _fetch(Request(f"{base}{path}", method="GET", headers=headers))  # noqa: S310
    except ClientError as error:
        if error.status == 404:
            return []
        raise
    return history if isinstance(history, list) else []


def _next_version(history: list[Any]) -> int:
    """The version the next event of a subject with this history takes."""
    return max((int(item["version"]) for item in history), default=0) + 1


def _signed(
    event: dict[str, Any], me: dict[str, Any], private_key: Ed25519PrivateKey, meaning: str
) -> tuple[dict[str, Any], str]:
    """The event with the signature manifestation (11.50) of the signed-in person (``me``, as
    ``GET /v1/me`` shows them) added, and the signature over it."""
    body = {
        **event,
        "signer": {"user_id": me["user_id"], "printed_name": me["printed_name"]},
        "key_id": key_id(private_key.public_key()),
        "signed_at": instant_to_wire(datetime.now(UTC)),
        "meaning": meaning,
    }
    return body, sign_body(private_key, body)[1]


def _private_key(key_file: Path) -> Ed25519PrivateKey:
    try:
        return private_key_from_pem(key_file.read_bytes())
    except KeyFormatError as error:
        raise ClientError(f"{key_file}: {error}", USAGE) from None


def _session(sender: Sender, password: str | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """The sender's bearer header and account: their kept session's, if they keep one and
    have signed in, else a new sign-in (kept, if they keep one). A copy of the header is
    returned, for the caller to add its own."""
    kept = sender.session
    if kept is not None and kept.headers is not None and kept.me is not None:
        return dict(kept.headers), kept.me
    headers, me = _signed_in(sender.url.rstrip("/"), sender.user_id, password or _password(sender))
    if kept is not None:
        kept.headers, kept.me = dict(headers), me
    return headers, me


def _signed_in(base: str, user_id: str, password: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A bearer header for the person, and their account as ``GET /v1/me`` shows it."""
    token = _call("POST", f"{base}/v1/auth/token", {"username": user_id, "password": password})
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    return headers, _call("GET", f"{base}/v1/me", headers=headers)


def check_receipt(base: str, receipt: dict[str, Any], session: Session | None) -> None:
    """The receipt must verify with the server's published key (the session's, if it kept
    one and the receipt verifies with it)."""
    kept = None if session is None else session.server_key
    # A receipt that does not verify with the kept key is checked with the key published now:
    # the server's key may have been rotated since.
    if kept is not None and _verifies(kept, receipt):
        return
    published = str(_call("GET", f"{base}/v1/server-key")["public_key"])
    try:
        verify_receipt(public_key_from_text(published), receipt)
    except VerificationError as error:
        raise ClientError(
            f"the receipt does not verify with the server's key: {error}", REFUSED
        ) from None
    if session is not None:
        session.server_key = published


def _verifies(public_key: str, receipt: dict[str, Any]) -> bool:
    try:
        verify_receipt(public_key_from_text(public_key), receipt)
    except VerificationError:
        return False
    return True


def _password(sender: Sender) -> str:
    if sender.password is not None:
        return sender.password
    password = os.environ.get("SEALTRAIL_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise ClientError("set SEALTRAIL_PASSWORD or run on a terminal to be asked", USAGE)
    return str(click.prompt("password", hide_input=True))


def _call(
    method: str,
    url: str,
    payload: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    retry: bool = False,
) -> dict[str, Any]:
    """Send ``payload`` (if any) as JSON; the JSON object the server answers."""
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    answer = _fetch(request, retry=retry)
    if not isinstance(answer, dict):
        raise ClientError(f"{url} answered {type(answer).__name__}, not an object", REFUSED)
    return answer


def _fetch(
    request: Request, *, retry: bool = False, expect_json: bool = True, timeout: float = 30
) -> Any:
    """The JSON the server answers ``request`` with (its bytes, unless ``expect_json``), sent
    up to :data:`RETRIES` times when ``retry`` while the server cannot be reached."""
    url = request.full_url
    for attempt in range(RETRIES if retry else 1):
        try:
            with urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer = response.read()
                return json.loads(answer) if expect_json else answer
        except HTTPError as error:
            raise ClientError(_problem_line(error), REFUSED, error.code) from None
        except (URLError, ConnectionError, TimeoutError) as error:
            # Same Idempotency-Key on every attempt, so a retry cannot record twice.
            if attempt + 1 == RETRIES or not retry:
                raise ClientError(f"cannot reach {url}: {error}", USAGE) from None
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _problem_line(error: HTTPError) -> str:
    try:
        problem = json.loads(error.read())
    except ValueError:
        return f"HTTP {error.code}: {error.reason}"
    detail = problem.get("detail", "")
    errors = problem.get("errors")
    if errors:
        detail = f"{detail}: {json.dumps(errors, sort_keys=True)}"
    return f"HTTP {error.code} {problem.get('title', error.reason)}: {detail}"
