"""The whole log as one CDISC ODM 1.3.2 archive: metadata, people, sites, every transaction.

A sponsor's submission packet carries the study's records in the exchange format regulators
read: CDISC ODM 1.3.2, ``FileType="Transactional"`` and ``Archival="Yes"`` (ODM 1.3.2 section
2.9, "Single Files and Collections"): every transaction of the study with its audit record and
its electronic signature, nothing summarised away. This package writes it from the events alone,
so anyone holding the events can write it again and compare bytes.

The document, element by element (ODM 1.3.2 chapter 3):

- ``ODM``: the file, created at the caller's instant (the checkpoint's time); its ``FileOID``
  is derived from the study and that instant.
- ``Study`` / ``GlobalVariables``: the study's registry id and title (``domain/protocols``).
- ``BasicDefinitions``: a ``MeasurementUnit`` for every unit a recorded quantity uses.
- ``MetaDataVersion``: one ``StudyEventDef`` (the subject's record, kept as it comes rather
  than by visit); a ``FormDef`` and an ``ItemGroupDef`` per record kind (``BloodCountRecorded``,
  ``MscInfusionGiven``...); an ``ItemDef`` per field, a quantity as its value with a
  ``MeasurementUnitRef``, a mapping (``results``, ``vital_signs_before``, ``criteria``...) as
  one item per key, a list (``seriousness``) as one item per place; a ``CodeList`` per coded
  answer. All of it is read from each kind's declaration (``Kind.items()``: the item's
  value type, vocabulary and whether it is required), none of it listed here by kind.
- ``AdminData``: a ``User`` per account of the log, the server's ``system`` among them, with
  the printed name its signatures show and a ``LocationRef`` for every site it was assigned;
  a ``Location`` per site; a ``SignatureDef`` per meaning of a signature (21 CFR 11.50(a)(3)).
- ``ClinicalData``: a ``SubjectData`` per subject, in which each of the subject's events is one
  transaction in log order. A record is an ``ItemGroupData`` with ``TransactionType="Insert"``;
  an ``EntryCorrected`` is an ``Update`` of the corrected entry's item group carrying the new
  values of the items it changed; an ``EntryVoided`` is a ``Remove`` of the voided entry's item
  group; a ``RecordsSigned`` (an investigator's electronic signature over records) is a
  ``Context`` transaction on each entry it signs, carrying no item and that signature's
  ``Signature`` (its meaning: review, approval or responsibility). Each entry is its own
  ``FormData`` whose ``FormRepeatKey`` is the entry (version) number, so a correction, void
  or signature addresses the entry it concerns. Each transaction has its ``AuditRecord``
  (who, where, the store's recording time in UTC, the reason for a correction or void, and
  ``SourceID`` = the event's log position) and its ``Signature`` (who, where, the
  meaning's ``SignatureDef``, and when the signer signed).

Account events are not transactions of ``ClinicalData``: ODM 1.3.2 keeps no audit trail of
``AdminData``, so they are read into the users, their printed names and sites. Subject events of
another study than the one asked for are not this study's and are left out.

Object identifiers are derived from names (``IG.BloodCountRecorded``,
``IT.BloodCountRecorded.results.haemoglobin``, ``MU.g-per-dL``, ``USR.coord1``, ``LOC.RP``):
letters, digits and ``_`` stand for themselves, and every other character is written as a named
or hexadecimal code between dashes, so two different names never share an OID.

A module per reason to change: ``names`` (the namespace and every OID), ``items`` (a record
kind's items, read from its declaration), ``reading`` (the log read into transactions, users
and sites), ``elements`` (writing an element), ``metadata`` (``Study``), ``admin``
(``AdminData``), ``clinical`` (``ClinicalData``), ``audit`` (each transaction's
``AuditRecord`` and ``Signature``), ``document`` (the file) and ``schema`` (the XSD check).
"""

from projections.odm.document import odm_chunks, odm_document
from projections.odm.reading import CHANGE_KINDS
from projections.odm.schema import check_odm_schema

__all__ = ["CHANGE_KINDS", "check_odm_schema", "odm_chunks", "odm_document"]
