"""Typed errors of the domain. The API maps each family to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
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
        super().__init__("enrolment refused: " + "; ".join(failures))


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
