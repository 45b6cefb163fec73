"""``AdminData`` (ODM 1.3.2 section 3.2): the users of the log, the sites and the definition of
each meaning of a signature (21 CFR 11.50(a)(3)).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from domain.account import Role
from domain.attribution import MEANINGS
from projections.odm.elements import add_element
from projections.odm.names import METADATA_VERSION_OID, location_oid, signature_oid, user_oid
from projections.odm.reading import LogReading

SIGNATURE_MEANINGS: Mapping[str, str] = {
    "authorship": "Authorship: the signer made this entry and attests that it is what they "
    "recorded.",
    "review": "Review: the signer reviewed this entry.",
    "approval": "Approval: the signer approved this entry.",
    "responsibility": "Responsibility: the signer takes responsibility for this entry.",
}
"""The ``Meaning`` of each :data:`domain.attribution.MEANINGS` (21 CFR 11.50(a)(3))."""

LEGAL_REASON = (
    "21 CFR 11.50: the signed record shows the signer's printed name, the date and time of "
    "signing and the meaning of the signature ({meaning}); 21 CFR 11.70: the signature is "
    "linked to its record (an Ed25519 signature over the record's canonical form) so it cannot "
    "be copied to another. The certification to FDA that electronic signatures are the legally "
    "binding equivalent of handwritten ones (21 CFR 11.100(c)) is made by the sponsor and the "
    "sites outside sealtrail and is not recorded in this export."
)
"""The ``LegalReason`` of every ``SignatureDef``: only what every signature of the log shows
(its signed body names the printed name, time and meaning, and ``sealtrail verify`` checks the
link of 11.70); the 11.100(c) certification is a letter the store never records, so it is named
as not recorded rather than claimed (issue 22, point 8)."""

EARLIER_LEGAL_REASONS: tuple[str, ...] = (
    "21 CFR 11.50: the signed record shows the signer's printed name, the date and time of "
    "signing and the meaning of the signature ({meaning}); 21 CFR 11.70: the signature is "
    "linked to its record (an Ed25519 signature over the record's canonical form) so it cannot "
    "be copied to another; 21 CFR 11.100(c): the signer certified that their electronic "
    "signature is the legally binding equivalent of their handwritten signature.",
)
"""The ``LegalReason`` earlier versions wrote, newest first. Never written again (the
11.100(c) certification it claimed is not recorded), but a packet published with one is still
the one its events gave then: ``packet verify`` takes it, and says so in a note."""

USER_TYPES: Mapping[Role, str] = {
    # Site staff act for the investigator; monitors and data managers for the sponsor.
    Role.INVESTIGATOR: "Investigator",
    Role.SITE_COORDINATOR: "Investigator",
    Role.MONITOR: "Sponsor",
    Role.SPONSOR_DATA_MANAGER: "Sponsor",
}
"""ODM's ``UserType`` of each role; any other role (or none) is ``Other``."""


def write_admin_data(
    root: ET.Element, reading: LogReading, legal_reason: str = LEGAL_REASON
) -> None:
    """``AdminData`` (section 3.2): users, locations and signature definitions, each with
    ``legal_reason`` (:data:`LEGAL_REASON`, or one of :data:`EARLIER_LEGAL_REASONS` when a
    published packet is checked)."""
    admin = add_element(root, "AdminData", StudyOID=reading.study)
    for account in reading.accounts.values():
        role = account.role
        user = add_element(
            admin,
            "User",
            OID=user_oid(account.user_id),
            UserType=USER_TYPES.get(role, "Other") if role is not None else "Other",
        )
        add_element(user, "LoginName", account.user_id)
        add_element(user, "DisplayName", account.printed_name)
        add_element(user, "FullName", account.printed_name)
        for site in reading.sites_of.get(account.user_id, ()):
            add_element(user, "LocationRef", LocationOID=location_oid(site))
    for site, first_seen in reading.sites.items():
        location = add_element(
            admin, "Location", OID=location_oid(site), Name=site, LocationType="Site"
        )
        add_element(
            location,
            "MetaDataVersionRef",
            StudyOID=reading.study,
            MetaDataVersionOID=METADATA_VERSION_OID,
            EffectiveDate=first_seen.isoformat(),
        )
    for meaning in MEANINGS:
        definition = add_element(
            admin, "SignatureDef", OID=signature_oid(meaning), Methodology="Digital"
        )
        add_element(definition, "Meaning", SIGNATURE_MEANINGS[meaning])
        add_element(definition, "LegalReason", legal_reason.format(meaning=meaning))
