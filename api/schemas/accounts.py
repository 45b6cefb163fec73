"""Schemas of accounts: the signed administration an administrator submits, and what is read.

An administrator signs one body per change of an account, in the form of a site's signed
event (docs/signing.md) with ``account`` in place of ``study`` and ``subject``. Each kind's
``data`` is checked here and typed for the domain method that records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from api.schemas.fields import (
    KEY_ID,
    PUBLIC_KEY,
    SHA256_HEX,
    CalendarDate,
    Code,
    Instant,
    PlainString,
    StrictBoolean,
    StrictSchema,
    Text,
    WholeNumber,
    plain_strings,
    signed_version,
)
from api.schemas.resources import LoggedEventSchema, LoggedReceiptSchema, TokenRequestSchema
from api.schemas.signed import check_data_fits, signature_field, signed_body_fields
from domain.account import STAFF_ROLES, Account, Role
from domain.authorship import Authorship
from domain.delegation import Task
from domain.wire import instant_to_wire
from infrastructure.application.commands import AccountAction
from signatures.canonical import canonicalize


def staff_role(**kwargs: Any) -> ma.fields.Enum[Any]:
    """A role a person can hold, by its value (``investigator``)."""
    return ma.fields.Enum(Role, by_value=True, validate=ma.validate.OneOf(STAFF_ROLES), **kwargs)


class OpenedData(StrictSchema):
    """``Opened``: a new account under the printed name its signatures show (11.50)."""

    printed_name = Text(max_length=200, required=True)


class RoleGrantedData(StrictSchema):
    """``RoleGranted``: in force once training for it is attested, until ``until`` if given."""

    role = staff_role(required=True)
    until = Instant(
        metadata={"description": "The instant the role lapses, still to come; absent: no end"}
    )


class RoleRevokedData(StrictSchema):
    """``RoleRevoked``."""

    role = staff_role(required=True)
    reason = Text(max_length=500, required=True)


class SiteAssignedData(StrictSchema):
    """``SiteAssigned``."""

    site = Code(required=True)


class SiteUnassignedData(StrictSchema):
    """``SiteUnassigned``."""

    site = Code(required=True)
    reason = Text(max_length=500, required=True)


class TrainingAttestedData(StrictSchema):
    """``TrainingAttested`` (21 CFR 11.10(i))."""

    role = staff_role(required=True)
    course = Text(max_length=200, required=True)
    completed_on = CalendarDate(required=True)


class KeyRegisteredData(StrictSchema):
    """``KeyRegistered``: base64 of the raw 32-byte Ed25519 key and its id."""

    key_id = PlainString(required=True, validate=KEY_ID)
    public_key = PlainString(required=True, validate=PUBLIC_KEY)
    valid_from = Instant(required=True)


class KeyRotatedData(StrictSchema):
    """``KeyRotated``: the old key ends where the new one begins."""

    old_key_id = PlainString(required=True, validate=KEY_ID)
    key_id = PlainString(required=True, validate=KEY_ID)
    public_key = PlainString(required=True, validate=PUBLIC_KEY)
    rotated_at = Instant(required=True)
    retroactive = StrictBoolean(
        metadata={"description": "true when rotated_at is already past (required then)"}
    )


class KeyRevokedData(StrictSchema):
    """``KeyRevoked``: from a stated instant."""

    key_id = PlainString(required=True, validate=KEY_ID)
    revoked_at = Instant(required=True)
    reason = Text(max_length=500, required=True)
    retroactive = StrictBoolean(
        metadata={"description": "true when revoked_at is already past (required then)"}
    )


class PasswordChangedData(StrictSchema):
    """``PasswordChanged`` by an administrator: a one-time password, answered once."""

    changed_by = Code(required=True)
    temporary = StrictBoolean(required=True)


class AccountLockedData(StrictSchema):
    """``AccountLocked``."""

    reason = Text(max_length=500, required=True)
    failed_attempts = WholeNumber(required=True)


class AccountUnlockedData(StrictSchema):
    """``AccountUnlocked``."""

    reason = Text(max_length=500, required=True)


class TasksDelegatedData(StrictSchema):
    """``TasksDelegated``: signed by the site's principal investigator (by an administrator for
    the designation of the principal investigator, task ``principal_investigator`` alone)."""

    site = Code(required=True)
    tasks = ma.fields.List(
        Code(validate=ma.validate.OneOf([task.value for task in Task])),
        required=True,
        validate=ma.validate.Length(min=1, max=len(Task)),
        metadata={"description": "Codes of the tasks delegated, each once"},
    )
    starts_on = CalendarDate(required=True)
    ends_on = CalendarDate(
        allow_none=True, metadata={"description": "Last day included; none: until ended"}
    )


class AuditTrailReviewedData(StrictSchema):
    """``AuditTrailReviewed``, on the reviewer's own account (an auditor or a sponsor data
    manager): what ``GET /v1/study/audit-review`` showed them, and what they concluded."""

    study = Code(required=True, metadata={"example": "NCT01297972"})
    site = Code(metadata={"description": "The site reviewed; absent: every site"})
    reviewed_from = CalendarDate(
        metadata={"description": "First recording date reviewed; absent: from the start"}
    )
    reviewed_to = CalendarDate(required=True, metadata={"description": "Last recording date"})
    findings = WholeNumber(required=True, metadata={"description": "How many findings were seen"})
    findings_sha256 = PlainString(
        required=True,
        validate=SHA256_HEX,
        metadata={"description": "The review's findings_sha256, as the report gave it"},
    )
    conclusion = Text(max_length=4000, required=True, multiline=True)


class DelegationEndedData(StrictSchema):
    """``DelegationEnded``: by the site's principal investigator or an administrator."""

    site = Code(required=True)
    reason = Text(max_length=500, required=True)


class AccountSeenSchema(StrictSchema):
    """One account as the reviewer saw it (``GET /v1/accounts`` shows each): what it held."""

    user_id = Code(required=True)
    role = staff_role(metadata={"description": "Absent when the account holds none"})
    until = Instant(metadata={"description": "The role's end, when it has one"})
    sites = ma.fields.List(Code(), required=True, validate=ma.validate.Length(max=100))
    keys = ma.fields.List(
        PlainString(validate=KEY_ID),
        required=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": "The ids of the keys valid now"},
    )


class AccessReviewedData(StrictSchema):
    """``AccessReviewed``, on the reviewer's own account: an administrator (every site, or
    one) or a site's investigator (``site``, their own) reviews who has which access."""

    accounts = ma.fields.List(
        ma.fields.Nested(AccountSeenSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "Each account reviewed, as it stands now"},
    )
    changes = ma.fields.List(
        Text(max_length=500),
        required=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": "The changes decided (none: an empty list)"},
    )
    site = Code(metadata={"description": "The site reviewed; absent: every site"})


class SiteCopyReceivedData(StrictSchema):
    """``SiteCopyReceived``: signed by the site's investigator, on their own account."""

    site = Code(required=True)
    packet_sha256 = PlainString(
        required=True,
        validate=ma.validate.Regexp(r"\A[0-9a-f]{64}\Z"),
        metadata={"description": "The zip's SHA-256, 64 lowercase hexadecimal digits"},
    )
    tree_size = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=2**63 - 1)
    )
    root = PlainString(
        required=True,
        validate=ma.validate.Length(equal=44),
        metadata={"description": "The checkpoint's root hash, in base64"},
    )


class DatabaseLockData(StrictSchema):
    """``DatabaseLocked`` and ``DatabaseReopened``, on the sponsor's account (``sponsor``), by
    a sponsor data manager: a site's database, or with no site the whole study's."""

    study = Code(required=True, metadata={"example": "NCT01297972"})
    reason = Text(max_length=500, required=True)
    site = Code(metadata={"description": "The site locked; absent: the whole study"})


ACCOUNT_DATA_SCHEMAS: dict[str, type[StrictSchema]] = {
    "Opened": OpenedData,
    "RoleGranted": RoleGrantedData,
    "RoleRevoked": RoleRevokedData,
    "SiteAssigned": SiteAssignedData,
    "SiteUnassigned": SiteUnassignedData,
    "TrainingAttested": TrainingAttestedData,
    "KeyRegistered": KeyRegisteredData,
    "KeyRotated": KeyRotatedData,
    "KeyRevoked": KeyRevokedData,
    "PasswordChanged": PasswordChangedData,
    "AccountLocked": AccountLockedData,
    "AccountUnlocked": AccountUnlockedData,
    "TasksDelegated": TasksDelegatedData,
    "DelegationEnded": DelegationEndedData,
    "AccessReviewed": AccessReviewedData,
    "AuditTrailReviewed": AuditTrailReviewedData,
    "SiteCopyReceived": SiteCopyReceivedData,
    "DatabaseLocked": DatabaseLockData,
    "DatabaseReopened": DatabaseLockData,
}


class AccountEventBodySchema(StrictSchema):
    """The body an administrator signs for one change of an account."""

    account = Code(required=True, metadata={"example": "coord1"})
    version = signed_version(
        "account's stream", "Opened", "the next of a request's changes, 1 more each", 6
    )
    kind, data, signer, key_id, signed_at, meaning = signed_body_fields(ACCOUNT_DATA_SCHEMAS)

    @ma.validates_schema
    def data_fits_kind(self, body: dict[str, Any], **_: Any) -> None:
        schema = ACCOUNT_DATA_SCHEMAS.get(body.get("kind", ""))
        check_data_fits(body, None if schema is None else schema())


class SignedAccountEventSchema(StrictSchema):
    """One signed change: the body and the administrator's Ed25519 signature (base64)."""

    event = ma.fields.Nested(AccountEventBodySchema, required=True)
    signature = signature_field()


class AdministrationSchema(StrictSchema):
    """Changes of one account, recorded together or not at all."""

    events = ma.fields.List(
        ma.fields.Nested(SignedAccountEventSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
    )


def typed_account_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The typed keyword arguments of the domain method that records ``kind``."""
    loaded: dict[str, Any] = ACCOUNT_DATA_SCHEMAS[kind]().load(data)
    return loaded


def account_action(event: dict[str, Any], signature: str) -> AccountAction:
    """One signed change of an account from its body as received (checked first with
    :class:`SignedAccountEventSchema`): the signature must cover that body's canonical bytes.

    The API's ``POST /v1/accounts`` and the pages' signed account changes both make theirs here.
    """
    return AccountAction(
        authorship=Authorship(canonicalize(event).decode("utf-8"), signature),
        body=event,
        fields=typed_account_fields(event["kind"], event["data"]),
    )


class AccountReceiptSchema(LoggedReceiptSchema):
    """The server's signed acknowledgement of one account event."""

    account = PlainString(required=True)


class AdministeredSchema(ma.Schema):
    """What an administration request recorded, and a one-time password if it issued one."""

    receipts = ma.fields.List(ma.fields.Nested(AccountReceiptSchema), required=True)
    one_time_password = PlainString(
        metadata={"description": "Only when a PasswordChanged was recorded; shown once"}
    )


class RegisteredKeySchema(ma.Schema):
    """A registered key and its validity."""

    key_id = PlainString()
    public_key = PlainString()
    valid_from = PlainString()
    revoked_at = PlainString(allow_none=True)


class HeldDelegationSchema(ma.Schema):
    """A delegation the account holds at a site (the site's log has every one)."""

    site = PlainString()
    tasks = ma.fields.List(PlainString())
    starts_on = PlainString()
    ends_on = PlainString(allow_none=True)
    delegated_by = PlainString()


class AccountSchema(ma.Schema):
    """An account as it stands."""

    user_id = PlainString()
    printed_name = PlainString()
    role = PlainString(allow_none=True, metadata={"description": "Granted"})
    role_in_force = PlainString(
        allow_none=True,
        metadata={"description": "Granted, trained for and not lapsed: what counts"},
    )
    role_until = PlainString(
        allow_none=True, metadata={"description": "The instant the role lapses; null: no end"}
    )
    trained_for = ma.fields.List(PlainString())
    sites = ma.fields.List(PlainString())
    locked = ma.fields.Boolean()
    password_expires_at = PlainString(allow_none=True)
    keys = ma.fields.List(ma.fields.Nested(RegisteredKeySchema))
    delegations = ma.fields.List(
        ma.fields.Nested(HeldDelegationSchema),
        metadata={"description": "Delegations no later event ended, one per site"},
    )


class AccountHistoryEntrySchema(LoggedEventSchema):
    """One change of an account: what, when, and who signed it."""

    signed_by = PlainString()


class AttemptSchema(ma.Schema):
    """One authentication attempt (21 CFR 11.300(d))."""

    user_id, occurred_at, channel, outcome, detail = plain_strings(5)


class AttemptQuerySchema(StrictSchema):
    """Filter of the authentication log."""

    user_id = PlainString(validate=ma.validate.Length(min=1, max=100))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class PasswordChangeSchema(TokenRequestSchema):
    """A person's own password change: their user id and password, as for a token, and the
    new password."""

    new_password = PlainString(required=True, validate=ma.validate.Length(min=1, max=200))


def account_document(account: Account, password_expires_at: datetime | None) -> dict[str, Any]:
    """An account as the API answers it and ``sealtrail user show --json`` prints it."""
    return {
        "user_id": account.user_id,
        "printed_name": account.printed_name,
        "role": account.role and account.role.value,
        "role_in_force": account.effective_role and account.effective_role.value,
        "role_until": account.role_until and instant_to_wire(account.role_until),
        "trained_for": sorted(role.value for role in account.trained_for),
        "sites": list(account.sites),
        "locked": account.locked,
        "password_expires_at": password_expires_at and instant_to_wire(password_expires_at),
        "keys": [
            {
                "key_id": key.key_id,
                "public_key": key.public_key,
                "valid_from": instant_to_wire(key.effective_from),
                "revoked_at": key.revoked_at and instant_to_wire(key.revoked_at),
            }
            for key in account.keys.values()
        ],
        "delegations": [
            {
                "site": held.site,
                "tasks": [task.value for task in held.tasks],
                "starts_on": held.starts_on.isoformat(),
                "ends_on": held.ends_on and held.ends_on.isoformat(),
                "delegated_by": held.delegated_by,
            }
            for held in account.delegations
            if held.ended_at is None
        ],
    }


class AccountDueSchema(ma.Schema):
    """An account not reviewed within the protocol's period (or never)."""

    user_id = PlainString()
    role = PlainString(allow_none=True)
    sites = ma.fields.List(PlainString())
    last_reviewed_at = PlainString(allow_none=True)
    last_reviewed_by = PlainString(allow_none=True)


class RoleEndingSchema(ma.Schema):
    """A role whose end has come (``lapsed``) or comes within the protocol's warning."""

    user_id = PlainString()
    role = PlainString()
    sites = ma.fields.List(PlainString())
    until = PlainString()
    lapsed = ma.fields.Boolean()


class AccessReviewReportSchema(ma.Schema):
    """The user access review report: accounts due for review and roles ending."""

    as_of = PlainString()
    period_days = ma.fields.Integer()
    lapse_warning_days = ma.fields.Integer()
    not_reviewed = ma.fields.List(ma.fields.Nested(AccountDueSchema))
    roles_ending = ma.fields.List(ma.fields.Nested(RoleEndingSchema))
