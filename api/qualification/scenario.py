"""The PQ's scripted scenario: synthetic subjects' lifecycles through the served API, as a
site's client does it, then the evidence that the deployment kept them (read back, packet,
checkpoint, verify, witnesses).

Its subjects take the demonstration cohort's records (api/demonstration), under study codes of
the PQ's own (``PQ-<UTC time of the run>``) at the PQ's own site, in one of two extents:

- the whole cohort (:func:`demonstration_cohort`, ``--cohort``): every subject ``sealtrail
  demo`` records, each record of each, screening to end of study, corrections and voids
  included, as ``PQ-<time>-01`` to ``-09``; each subject's casebook then signed by the
  investigator at its end of study;
- one subject (:func:`one_subject`): the demonstration's first subject's first record of each
  kind a site enters from screening to the first adverse event (:data:`LIFECYCLE`), then the
  investigator's signature over its records.

Either way a correction with its reason follows the records (the first subject's baseline
count). Every write is signed with the synthetic person's own key, sent over HTTP(S) with their
own session, and its receipt checked with the server's published key (:mod:`api.console.client`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from api.console import client
from api.demonstration.closing import CASEBOOK_MEANING
from api.demonstration.plans import COORDINATOR, DATA_MANAGER, INVESTIGATOR, PLANS, STUDY, Record
from api.demonstration.records import subject_records
from api.qualification.accounts import PQ_SITE, PqPerson
from domain.errors import DomainError
from domain.subject import Subject
from domain.vocabulary import Milestone
from infrastructure.bootstrap import log_verifier
from infrastructure.validation.performance import PASSED, Step
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.errors import CosignatureStale, VerificationError, WitnessQuorumNotMet

LIFECYCLE = (
    Subject.Screened,
    Subject.ConsentObtained,
    Subject.BoneMarrowExamined,
    Subject.BloodCountRecorded,
    Subject.EligibilityAssessed,
    Subject.Enrolled,
    Subject.RatgDoseGiven,
    Subject.CyclosporineStarted,
    Subject.MscInfusionGiven,
    Subject.AdverseEventReported,
)
"""The kinds the subject's lifecycle records, each the first of its kind in the plan."""
CORRECTION_REASON = (
    "haemoglobin re-read from the laboratory report (synthetic correction of the performance "
    "qualification)"
)
STEP_ERRORS = (client.ClientError, DomainError, VerificationError)
"""What makes a step fail (said in its line) rather than stop the run."""

QUORUM_FINDINGS = frozenset({WitnessQuorumNotMet.kind, CosignatureStale.kind})
"""What the witnesses given with --witness did not vouch for: the PQ's witnesses step."""


def subject_code(at: datetime) -> str:
    """The PQ's study code of the run: ``PQ-`` and the run's UTC time, a code no real site uses
    (a real subject's code starts with its site's, as ``RP-101``); a cohort's subjects add
    their number to it."""
    return f"PQ-{at:%Y%m%dT%H%M%S}"


@dataclass(frozen=True)
class PqSubject:
    """A synthetic subject of the run: its code at the PQ's site, the demonstration subject
    whose records it takes (``RP-01``), and those records, in the order they are sent (its
    n-th record is its entry n, as in the demonstration)."""

    code: str
    demonstrates: str
    records: tuple[Record, ...]

    def left_the_study(self) -> bool:
        """Whether its records end the subject's study (then its casebook is signed)."""
        return any(record.kind == Subject.EndOfStudyRecorded.kind() for record in self.records)


def one_subject(at: datetime) -> tuple[PqSubject, ...]:
    """The single-subject extent: the first subject's records of :data:`LIFECYCLE`."""
    return (PqSubject(subject_code(at), PLANS[0].code, tuple(lifecycle_records())),)


def demonstration_cohort(at: datetime) -> tuple[PqSubject, ...]:
    """The cohort's extent: every subject of the demonstration, every record of each, numbered
    in the cohort's order (``PQ-<time>-01`` takes RP-01's records)."""
    base = subject_code(at)
    return tuple(
        PqSubject(f"{base}-{number:02d}", plan.code, tuple(at_pq_site(subject_records(plan))))
        for number, plan in enumerate(PLANS, start=1)
    )


def lifecycle_records() -> list[Record]:
    """The demonstration's first subject's records of :data:`LIFECYCLE`, at the PQ's site."""
    wanted = [kind.kind() for kind in LIFECYCLE]
    chosen: dict[str, Record] = {}
    for record in at_pq_site(subject_records(PLANS[0])):
        if record.kind in wanted and record.kind not in chosen:
            chosen[record.kind] = record
    return [chosen[kind] for kind in wanted]


def at_pq_site(records: list[Record]) -> list[Record]:
    """A demonstration subject's records with its screening at the PQ's site (the only record
    that names the site; it says it is synthetic, as every demonstration one)."""
    screened = Subject.Screened.kind()
    return [
        Record(record.kind, {**record.data, "site": PQ_SITE, "synthetic": True}, record.signer)
        if record.kind == screened
        else record
        for record in records
    ]


@dataclass
class Scenario:
    """One run of the scenario against ``url``, as the PQ's ``people``, over ``subjects``."""

    url: str
    people: dict[str, PqPerson]
    subjects: tuple[PqSubject, ...]
    witnesses: WitnessPolicy | None = None
    documents: bool = True
    packet_path: Path = Path("pq-packet.zip")
    """Where the packet is written."""
    server_key_id: str = ""
    steps: list[Step] = field(default_factory=list)
    _senders: dict[str, client.Sender] = field(default_factory=dict)
    _sent: list[dict[str, Any]] = field(default_factory=list)
    _signed: list[dict[str, Any]] = field(default_factory=list)

    def run_site(self) -> list[Step]:
        """The site's and the sponsor's work through the API, in order, stopping at its first
        failure (what follows needs it)."""
        chain: list[tuple[Step, Callable[[Step], None]]] = [
            (
                Step(
                    "first sign-in",
                    "each synthetic person changes the one-time password the "
                    "administrator issued, through the API, before anything else",
                    ("P11-11.200a-2", "P11-11.300b-1"),
                ),
                self.first_sign_in,
            ),
            (
                Step(
                    "lifecycle",
                    "each subject's records, each signed with its author's own key and placed "
                    "in the log with a verified receipt",
                    ("P11-11.30-1", "P11-11.10h-1", "P11-11.10f-1", "E6-2.3-1"),
                ),
                self.lifecycle,
            ),
            (
                Step(
                    "correction",
                    "the first subject's baseline count corrected, with its reason, as a new entry",
                    ("P11-11.10e-2",),
                ),
                self.correction,
            ),
            (
                Step(
                    "signature",
                    "the investigator signs each subject's records (review), or the whole "
                    "casebook of one who left the study (approval, at the end of study), "
                    "re-entering the user id and password",
                    ("P11-11.50-1", "P11-11.70-1"),
                ),
                self.signature,
            ),
            (
                Step(
                    "read back",
                    "each subject's history read through the API holds each record "
                    "as sent, at the position its receipt gave, the corrected entry unchanged",
                    ("P11-11.10e-1", "P11-11.10e-2"),
                ),
                self.read_back,
            ),
            (
                Step(
                    "packet",
                    "the sponsor's packet built by the API and verified offline",
                    ("P11-11.10c-2",),
                ),
                self.packet,
            ),
            (
                Step(
                    "checkpoint",
                    "the latest signed checkpoint, published by the API, covers "
                    "every record of the subjects",
                    ("URS-merkle-1",),
                ),
                self.checkpoint,
            ),
        ]
        failed: str | None = None
        for step, action in chain:
            self.steps.append(step)
            if failed is not None:
                step.detail = f"not run: {failed} failed first"
                continue
            self._attempt(step, action)
            if step.result != PASSED:
                failed = step.name
        return self.steps

    def run_checks(self) -> list[Step]:
        """The log's verification on this host and the witnesses' quorum, whatever happened
        before."""
        verify = Step(
            "verify",
            "the whole log re-checked on the server host, as `sealtrail "
            "verify` does: every signature, chain, the Merkle log, every checkpoint",
            ("P11-11.10a-1",),
        )
        witnesses = Step(
            "witnesses",
            "the latest checkpoint cosigned by the quorum of the witnesses given",
            ("P11-11.10e-5",),
        )
        self._attempt(verify, lambda step: self.verify(step, witnesses))
        return [verify, witnesses]

    def _attempt(self, step: Step, action: Callable[[Step], None]) -> None:
        with step.timed():
            try:
                action(step)
            except STEP_ERRORS as error:
                title = getattr(error, "title", None)
                step.failed(f"{title}: {error}" if title else str(error))

    def sender(self, duty: str) -> client.Sender:
        """The synthetic person of ``duty`` as the site's client signs and sends."""
        return self._senders[duty]

    def first_sign_in(self, step: Step) -> None:
        """Each person's own password, chosen at first use through the API."""
        for duty, person in self.people.items():
            chosen = f"Pq-{secrets.token_urlsafe(18)}-9a"
            client.change_password(self.url, person.staff.user_id, person.one_time_password, chosen)
            # One session per person for the whole scenario, as a person at the site keeps.
            self._senders[duty] = client.Sender(
                self.url, person.staff.user_id, person.key_file, chosen, client.Session()
            )
        step.passed(accounts=[person.staff.user_id for person in self.people.values()])

    @property
    def signed_writes(self) -> int:
        """The signed events this run sent through the API and had receipted: the records, the
        correction and the signatures."""
        return len(self._sent) + len(self._signed)

    def lifecycle(self, step: Step) -> None:
        """Sign and submit each subject's records as their authors, a subject after another."""
        for subject in self.subjects:
            for record in subject.records:
                self._submit(subject.code, record.kind, record.data, record.signer)
        step.passed(
            site=PQ_SITE,
            subjects=[
                {"code": s.code, "demonstrates": s.demonstrates, "records": len(s.records)}
                for s in self.subjects
            ],
            events=_placed(self._sent),
        )

    def correction(self, step: Step) -> None:
        """Correct the first subject's baseline count's haemoglobin (entry 4), old -> new, with
        its reason."""
        first = self.subjects[0].code
        counted = next(
            s
            for s in self._sent
            if s["subject"] == first and s["kind"] == Subject.BloodCountRecorded.kind()
        )
        old = counted["data"]["results"]
        haemoglobin = old["haemoglobin"]
        new_value = f"{float(haemoglobin['value']) + 0.1:.1f}"
        new = {**old, "haemoglobin": {**haemoglobin, "value": new_value}}
        data = {
            "entry": counted["version"],
            "entry_kind": counted["kind"],
            "changes": {"results": {"old": old, "new": new}},
            "reason": CORRECTION_REASON,
        }
        self._submit(first, Subject.EntryCorrected.kind(), data, COORDINATOR)
        step.passed(
            subject=first,
            corrected_entry=counted["version"],
            correction=_placed(self._sent[-1:]),
        )

    def signature(self, step: Step) -> None:
        """The investigator signs each subject: the whole casebook at the end of study when its
        records end its study (as the demonstration's investigator does), else every record
        sent (the correction as a change of them)."""
        for subject in self.subjects:
            if subject.left_the_study():
                answer = client.sign_casebook(
                    self.sender(INVESTIGATOR),
                    study=STUDY,
                    subject=subject.code,
                    milestone=Milestone.END_OF_STUDY.value,
                    meaning=CASEBOOK_MEANING,
                    idempotency_key=None,
                )
            else:
                entries = [
                    s["version"]
                    for s in self._sent
                    if s["subject"] == subject.code and s["kind"] != Subject.EntryCorrected.kind()
                ]
                answer = client.sign_records(
                    self.sender(INVESTIGATOR),
                    study=STUDY,
                    subject=subject.code,
                    entries=entries,
                    meaning="review",
                    idempotency_key=None,
                )
            receipt = answer["receipt"]
            self._signed.append(
                {
                    "subject": subject.code,
                    "kind": receipt["kind"],
                    "signed_entries": [signed["entry"] for signed in answer["signed"]],
                    "position": receipt["position"],
                    "leaf_index": receipt["leaf_index"],
                    "version": receipt["version"],
                    "event_hash": receipt["event_hash"],
                }
            )
        step.passed(signatures=self._signed)

    def read_back(self, step: Step) -> None:
        """Each subject's history as the API gives it, compared with what was sent."""
        differences: list[str] = []
        entries = 0
        for subject in self.subjects:
            history = client.history(self.sender(INVESTIGATOR), STUDY, subject.code)
            entries += len(history)
            sent = [s for s in self._sent if s["subject"] == subject.code]
            differences += [f"{subject.code} {said}" for said in _compared(sent, history)]
        if differences:
            step.failed("; ".join(differences[:10]), entries=entries, differences=len(differences))
            return
        step.passed(subjects=len(self.subjects), entries=entries, compared=len(self._sent))

    def packet(self, step: Step) -> None:
        """POST /v1/packets as the sponsor's data manager, built in the background (the
        server's workers may spend only so long on one request) and fetched once built; the
        zip verified offline."""
        from infrastructure.packets.verify import verify_packet

        headers = client.session_headers(self.sender(DATA_MANAGER))
        data = client.fetch_packet(
            f"{self.url.rstrip('/')}/v1/packets",
            {"study": STUDY, "documents": self.documents},
            headers,
        )
        self.packet_path.write_bytes(data)
        report = verify_packet(
            data,
            redraw_documents=self.documents,
            trusted_server_key=self.server_key_id,
            witnesses=self.witnesses,
        )
        evidence = {
            "file": self.packet_path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "tree_size": report.tree_size,
            "root": report.root,
            "events": report.events,
            "files": report.files,
            "documents_redrawn": report.documents_redrawn,
            "findings": [str(finding) for finding in report.findings][:10],
        }
        last = max(written["position"] for written in self._written())
        if not report.ok:
            step.failed(f"the packet does not verify: {len(report.findings)} findings", **evidence)
        elif report.tree_size is None or report.tree_size < last:
            step.failed(f"the packet's log ends before the subject's position {last}", **evidence)
        else:
            step.passed(**evidence)

    def checkpoint(self, step: Step) -> None:
        """GET /v1/checkpoints/latest: its size covers the subject's last record."""
        latest = client.public_document(f"{self.url.rstrip('/')}/v1/checkpoints/latest")
        evidence = {"tree_size": latest["tree_size"], "root": latest["root"]}
        needed = max(written["leaf_index"] for written in self._written()) + 1
        if int(latest["tree_size"]) < needed:
            step.failed(
                f"the latest checkpoint ({latest['tree_size']}) ends before leaf {needed - 1}",
                **evidence,
            )
            return
        step.passed(**evidence)

    def verify(self, step: Step, witnesses: Step) -> None:
        """The log re-checked on this host (and the witnesses' quorum, when given)."""
        with log_verifier(workers=1) as verifier:
            report = verifier.verify(witnesses=self.witnesses)
        # The quorum's verdict is the witnesses' step; every other finding (a forged
        # cosignature among them) is the log's.
        about_witnesses = [
            str(finding) for finding in report.findings if finding.kind in QUORUM_FINDINGS
        ]
        findings = [
            str(finding) for finding in report.findings if finding.kind not in QUORUM_FINDINGS
        ]
        if self.witnesses is None:
            witnesses.detail = "optional, not run: no --witness given"
        elif about_witnesses:
            witnesses.failed(about_witnesses[0], findings=about_witnesses[:10])
        else:
            witnesses.passed(quorum=self.witnesses.quorum)
        evidence = {"events": report.events, "findings": findings[:10]}
        if not findings:
            step.passed(**evidence)
        else:
            step.failed(f"verify found {len(findings)} findings", **evidence)

    def _written(self) -> list[dict[str, Any]]:
        """Every write of the run that was receipted: the records, then the signatures."""
        return [*self._sent, *self._signed]

    def _submit(self, subject: str, kind: str, data: dict[str, Any], duty: str) -> None:
        # The author signs the place the record takes, known here: the subject's next version
        # (so no history is read before each write, as a site's client without it must).
        version = 1 + sum(1 for written in self._written() if written["subject"] == subject)
        event = {"study": STUDY, "subject": subject, "version": version, "kind": kind, "data": data}
        receipt = client.submit(
            self.sender(duty), meaning="authorship", idempotency_key=None, event=event
        )
        self._sent.append(
            {
                "subject": subject,
                "kind": kind,
                "version": receipt["version"],
                "position": receipt["position"],
                "leaf_index": receipt["leaf_index"],
                "event_hash": receipt["event_hash"],
                "by": self.sender(duty).user_id,
                "data": data,
            }
        )


def _placed(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the record shows of events sent: where the log placed them, not their values."""
    return [{name: value for name, value in event.items() if name != "data"} for event in sent]


def _compared(sent: list[dict[str, Any]], history: list[Any]) -> list[str]:
    """How a subject's history read back differs from what was sent to it (nothing: none)."""
    by_version = {item["version"]: item for item in history}
    differences = []
    for each in sent:
        held = by_version.get(each["version"])
        if held is None:
            differences.append(f"entry {each['version']} is missing")
            continue
        for name in ("kind", "position", "event_hash"):
            if held.get(name) != each[name]:
                differences.append(f"entry {each['version']}: {name} {held.get(name)!r}")
        if held.get("data") != each["data"]:
            differences.append(f"entry {each['version']}: its data differs from what was sent")
    for change in sent:
        if change["kind"] == Subject.EntryCorrected.kind():
            target = by_version.get(change["data"]["entry"], {})
            named = change["version"] in (target.get("corrected_by") or [])
        elif change["kind"] == Subject.EntryVoided.kind():
            target = by_version.get(change["data"]["entry"], {})
            named = target.get("voided_by") == change["version"]
        else:
            continue
        if not named:
            differences.append(f"entry {change['data']['entry']} does not name its change")
    return differences
