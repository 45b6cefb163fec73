"""Typed errors of the domain. The API maps each family to one HTTP status in one place."""

from __future__ import annotations

from signatures.errors import WordedError


class DomainError(WordedError):
    """Base of every error the domain raises on purpose."""

    title = "Domain rule violated"


class ProtocolViolation(DomainError):
    """A well-formed request that the study protocol forbids (answered 422)."""

    title = "Protocol rule violated"


class EligibilityNotMet(ProtocolViolation):
    """Enrolment refused: the subject does not meet the protocol's eligibility criteria."""

    title = "Eligibility not met"

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("enrolment refused: %(failures)s", failures="; ".join(failures))


class ConsentRequired(ProtocolViolation):
    """A study procedure was recorded before informed consent (TCLE) was obtained."""

    title = "Informed consent required first"


class NotEnrolled(ProtocolViolation):
    """A treatment record for a subject who is not enrolled."""

    title = "Subject not enrolled"


class AlreadyEnrolled(ProtocolViolation):
    """A second enrolment of the same subject."""

    title = "Subject already enrolled"


class InfusionOutOfSequence(ProtocolViolation):
    """MSC infusions are numbered 1, 2, ... in order, up to the protocol's maximum."""

    title = "MSC infusion out of sequence"


class UnitNotAccepted(ProtocolViolation):
    """A value was given in a unit the protocol does not record it in."""

    title = "Unit not accepted"


class ValueOutOfRange(ProtocolViolation):
    """A value that cannot be true (negative count, grade 7...)."""

    title = "Value out of range"


class DatedInTheFuture(ProtocolViolation):
    """A record dated after today at the site: nothing is recorded before it happens."""

    title = "Dated in the future"


class DatedAfterDeath(ProtocolViolation):
    """A record dated after the subject's death (only follow-up, corrections and signatures)."""

    title = "Dated after death"


class DatedBeforeConsent(ProtocolViolation):
    """A study procedure dated before the TCLE was signed."""

    title = "Dated before consent"


class SubjectNotInStudy(ProtocolViolation):
    """A treatment or study procedure for a subject who failed screening, withdrew or ended."""

    title = "Subject not in the study"


class RatgDayOutOfCourse(ProtocolViolation):
    """rATG is given on days 1 to the protocol's last day, each day once, on consecutive dates."""

    title = "rATG outside its course"


class InfusionTooSoon(ProtocolViolation):
    """Two MSC infusions closer than the protocol's interval (a weekly schedule)."""

    title = "MSC infusion too soon"


class CyclosporineNotStarted(ProtocolViolation):
    """A cyclosporine adjustment or stop before the cyclosporine course was started."""

    title = "Cyclosporine not started"


class SeriousnessCriterionMissing(ProtocolViolation):
    """A serious adverse event names no seriousness criterion, or a non-serious one names one."""

    title = "Seriousness criteria inconsistent"


class DeathRecordDisagrees(ProtocolViolation):
    """A grade-5 adverse event and the death record must agree (fatal outcome, same date)."""

    title = "Death record and adverse event disagree"


class AdverseEventNotFound(ProtocolViolation):
    """A follow-up or notification names an adverse event the subject does not have."""

    title = "Adverse event not found"


class DuplicateRecord(ProtocolViolation):
    """A record that can exist once per subject (or per key) is recorded again."""

    title = "Recorded already"


class EntryNotFound(ProtocolViolation):
    """A correction or void names an entry (version) the subject's record does not have."""

    title = "Entry not found"


class CorrectionInvalid(ProtocolViolation):
    """A correction or void that does not fit the entry it names (21 CFR 11.10(e))."""

    title = "Correction not accepted"


class QueryInvalid(ProtocolViolation):
    """A data clarification query that does not fit the record it names, or an answer or a
    closing of a query that is not open."""

    title = "Query not accepted"


class SignatureRefused(ProtocolViolation):
    """An electronic signature over records that cannot be made as asked (21 CFR 11.50, 11.70):
    no record named, one named twice, a voided record, a correction, void or signature named as
    the record, or a meaning other than review, approval or responsibility."""

    title = "Signature not accepted"


class SignedRecordChanged(SignatureRefused):
    """The signer signed a record hash that is not the record's as it stands now: it was
    corrected or voided since the signer read it (reload, read it again, sign again)."""

    title = "Record changed since it was read"


class CasebookChanged(SignedRecordChanged):
    """A casebook signature over a state of the subject that is no longer its state: a record,
    correction or void was made since the signer read the casebook (read it again, sign again)."""

    title = "Casebook changed since it was read"


class MilestoneNotReached(SignatureRefused):
    """A casebook signed at a milestone the subject's records do not show reached yet."""

    title = "Milestone not reached"


class AuditReviewInvalid(ProtocolViolation):
    """An audit-trail review that says nothing: a period that ends before it begins, or a
    review recorded without a conclusion (answered 422)."""

    title = "Audit review invalid"


class LockStepRefused(ProtocolViolation):
    """A freeze, lock or unlock that the subject's state does not allow: a second freeze or lock,
    an unlock without a reason, or an investigator's unlock naming no pending request."""

    title = "Lock step not accepted"


class CasebookNotSigned(LockStepRefused):
    """A lock of a subject whose casebook no current signature covers: the investigator signs
    the casebook as it stands first (issue 18, point 4)."""

    title = "Casebook not signed"


class RecordsClosed(DomainError):
    """A write to a subject whose records are frozen or locked (answered 409): nothing is
    recorded until the subject is unlocked by a sponsor data manager and the site's
    investigator."""

    title = "Records closed"


class RecordsFrozen(RecordsClosed):
    """A new record or a correction of a frozen subject (queries, their answers and closings,
    source verification and signatures are still taken)."""

    title = "Subject frozen"


class RecordsLocked(RecordsClosed):
    """Anything but the unlock steps, written to a locked subject."""

    title = "Subject locked"


class ScreeningClosed(RecordsClosed):
    """A screening at a site whose database (or whose study's) is locked before analysis."""

    title = "Database locked"


class SourceVerificationRefused(ProtocolViolation):
    """A source data verification that cannot be made as asked: a voided record, a change,
    signature, query or verification named as the record, a field the record's kind does not
    declare, or a record verified as it stands already."""

    title = "Source verification not accepted"


class SourceVerificationStale(SourceVerificationRefused):
    """The monitor names a record hash that is not the record's as it stands now: it was
    corrected or voided since they read it (read it again, verify it again)."""

    title = "Record changed since it was read"


class ProtocolDefinitionInvalid(DomainError):
    """A protocol definition file misses or mistypes a setting (a configuration error)."""

    title = "Protocol definition invalid"


class UnknownRecordKind(ProtocolViolation):
    """The signed body names an event kind the store does not know."""

    title = "Unknown record kind"


class UnknownStudy(ProtocolViolation):
    """The signed body names a study this store does not serve."""

    title = "Unknown study"


class SubjectNotFound(DomainError):
    """No subject with this study code has been screened (answered 404)."""

    title = "Subject not found"


class SubjectAlreadyScreened(DomainError):
    """A second screening record under an existing study code (answered 409)."""

    title = "Subject already screened"


class AuthorshipMissing(DomainError):
    """An event was about to be recorded with no signed authorship in force.

    Every event in the store is signed; this is a programming error, never a user error.
    """

    title = "Authorship missing"


class VersionConflict(DomainError):
    """Another write got to this version of the subject first, or the author signed another
    version than the one the event would take (answered 409)."""

    title = "Version conflict"


class VersionNotSigned(DomainError):
    """A signed body that does not say which version of its stream the event takes (422).

    The author signs the place of the event, so that a copy of it anywhere else in the log is
    named (docs/signing.md); a body without it is refused."""

    title = "Version not signed"


# -- accounts: who may act, with which role, site and key -------------------------------------


class UserIdMalformed(DomainError):
    """A user id outside :data:`domain.account.USER_ID_PATTERN` (answered 422)."""

    title = "User id malformed"


class ReasonNotStated(DomainError):
    """A change of an account that must say why, with a reason that shows nothing: empty,
    spaces, or characters drawn blank (answered 422)."""

    title = "Reason not stated"


class AccountRuleViolated(DomainError):
    """A change of account that the account's state does not allow (answered 409)."""

    title = "Account rule violated"


class KeyAlreadyRegistered(AccountRuleViolated):
    """The same public key is registered twice for an account."""

    title = "Key already registered"


class KeyNotRegistered(DomainError):
    """A revocation or rotation names a key the account never had (answered 404)."""

    title = "Key not registered"


class KeyEndPassed(DomainError):
    """A key's end (rotation or revocation) that is already past when the change is stored,
    not stated as retroactive (answered 422).

    Events may have been recorded with the key after that instant, while it was still in
    force; a later end would make them invalid behind the store's back. A past end must say
    so (``retroactive``), so that what it disowns is named as such.
    """

    title = "Key end already passed"


class KeyAlreadyRevoked(AccountRuleViolated):
    """A revoked key is never revoked again, nor rotated: its end is already on record."""

    title = "Key already revoked"


class RoleAlreadyHeld(AccountRuleViolated):
    """An account holds one role at a time; the current one is revoked first."""

    title = "Role already held"


class RoleNotHeld(AccountRuleViolated):
    """A revocation names a role the account does not hold."""

    title = "Role not held"


class RoleNotGrantable(AccountRuleViolated):
    """The server's own role is never granted to a person."""

    title = "Role not grantable"


class RoleEndPassed(DomainError):
    """A role granted until an instant already past: it would never be in force (answered
    422)."""

    title = "Role end already passed"


class SiteAlreadyAssigned(AccountRuleViolated):
    """The account already acts for this site."""

    title = "Site already assigned"


class SiteNotAssigned(AccountRuleViolated):
    """An unassignment names a site the account does not act for."""

    title = "Site not assigned"


class AccountAlreadyLocked(AccountRuleViolated):
    """The account is locked already."""

    title = "Account already locked"


class AccountNotLocked(AccountRuleViolated):
    """An unlock of an account that is not locked."""

    title = "Account not locked"


class DelegationNotInForce(AccountRuleViolated):
    """A delegation is ended at a site where the account holds none in force."""

    title = "Delegation not in force"


class SiteCopyReceiptInvalid(DomainError):
    """A receipt of a site's own copy that names no packet or checkpoint as they are written: a
    SHA-256 that is not 64 hexadecimal digits, a tree size below 1, a root that is not the
    base64 of 32 bytes; or a checkpoint the store never sealed (answered 422)."""

    title = "Site copy receipt invalid"


class DelegationInvalid(DomainError):
    """A delegation that cannot be recorded as written: no task, a code that is no task of the
    vocabulary, a period that ends before it starts, starts before 1970 or lasts over 100 years
    (answered 422)."""

    title = "Delegation invalid"


class AccessReviewInvalid(DomainError):
    """An access review that names no account, one twice, one that does not exist or one
    outside the site it reviews, or an empty change (answered 422)."""

    title = "Access review invalid"


class AccessReviewStale(AccountRuleViolated):
    """An access review of an account whose access is no longer what the reviewer saw
    (answered 409): the review is made again over the accounts as they stand."""

    title = "Access review stale"


# -- permissions: what a role in force may do -------------------------------------------------


class NotPermitted(DomainError):
    """The person is authenticated but may not do this (answered 403)."""

    title = "Not permitted"


class KeyCustodyViolated(NotPermitted):
    """A change of the server's or the sponsor's key outside the key-custody procedure
    (answered 403; a ``key-custody-broken`` finding when found in the log)."""

    title = "Key custody"
    kind = "key-custody-broken"


class SignerNotAuthorised(NotPermitted):
    """A logged event whose signer, as their account stood when it was recorded, was not
    authorised to sign it: a write the store refuses, found in the log past it (a
    ``not-authorised`` finding of ``sealtrail verify`` and ``sealtrail packet verify``).
    ``rule`` names the rule that refuses it (of :mod:`domain.permissions`, or
    :func:`domain.database_lock.check_part_of_database_lock` for a lock as part of a site's or
    the study's lock with no database lock recorded)."""

    title = "Signer not authorised"
    kind = "not-authorised"

    def __init__(self, template: str, /, *, rule: str, **parameters: object) -> None:
        super().__init__(template, rule=rule, **parameters)
        self.rule = rule


class NotDelegated(NotPermitted):
    """The person's role allows the write, but no delegation by the site's principal
    investigator covers its task on this day, and the protocol requires one (answered 403)."""

    title = "Not delegated"
