"""Typed errors of the projections: what an export refuses to write."""

from __future__ import annotations

from domain.errors import DomainError


class OdmExportRefused(DomainError):
    """The log given cannot be written as ODM: not in log order, incomplete, or unwritable.

    Nothing is written: a partial archive would claim to be the whole record.
    """

    title = "ODM export refused"


class OdmSchemaInvalid(DomainError):
    """A document is not valid against the official ODM 1.3.2 schema.

    Attributes:
        violations: the first violations in the document, each as ``path: reason``.
    """

    title = "ODM document invalid"

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        super().__init__("not valid ODM 1.3.2: " + "; ".join(violations))
