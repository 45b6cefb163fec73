"""The PQ's scripted scenario: one synthetic subject's lifecycle through the served API, as a
site's client does it, then the evidence that the deployment kept it (read back, packet,
checkpoint, verify, witnesses).

The subject's records are the demonstration's first subject's (api/demonstration), the ones a
site enters from screening to the first adverse event, under a study code of the PQ's own
(``PQ-<UTC time of the run>``) at the PQ's own site: screening, consent, the marrow and the
baseline count (the laboratory's results), eligibility (the investigator's), enrolment, the
first rATG dose, cyclosporine, an MSC infusion and an adverse event; then a correction with its
reason and the investigator's signature over the records. Every step is signed with the
synthetic person's own key, sent over HTTP(S) with their own session, and its receipt checked
with the server's published key (:mod:`api.console.client`).
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
from api.demonstration.plans import COORDINATOR, DATA_MANAGER, INVESTIGATOR, PLANS, STUDY, Record
from api.demonstration.records import subject_records
from api.qualification.accounts import PQ_SITE, PqPerson
from domain.errors import DomainError
from domain.subject import Subject
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
    """The PQ subject's study code: ``PQ-`` and the run's UTC time, a code no real site uses
    (a real subject's code starts with its site's, as ``RP-101``)."""
    return f"PQ-{at:%Y%m%dT%H%M%S}"


def lifecycle_records() -> list[Record]:
    """The demonstration's first subject's records of :data:`LIFECYCLE`, at the PQ's site."""
    wanted = [kind.kind() for kind in LIFECYCLE]
    chosen: dict[str, Record] = {}
    for record in subject_records(PLANS[0]):
        if record.kind in wanted and record.kind not in chosen:
            chosen[record.kind] = record
    screened = chosen[Subject.Screened.kind()]
    # The screening names the PQ's site and says it is synthetic (as every demonstration one).
    data = {**screened.data, "site": PQ_SITE, "synthetic": True}
    chosen[screened.kind] = Record(screened.kind, data, screened.signer)
    return [chosen[kind] for kind in wanted]


@dataclass
class Scenario:
    """One run of the scenario against ``url``, as the PQ's ``people``."""

    url: str
    people: dict[str, PqPerson]
    subject: str
    witnesses: WitnessPolicy | None = None
    documents: bool = True
    packet_path: Path = Path("pq-packet.zip")
    """Where the packet is written."""
    server_key_id: str = ""
    steps: list[Step] = field(default_factory=list)
    _senders: dict[str, client.Sender] = field(default_factory=dict)
    _sent: list[dict[str, Any]] = field(default_factory=list)

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
                    "the subject's records from screening to an adverse event, each signed "
                    "with its author's own key and placed in the log with a verified receipt",
                    ("P11-11.30-1", "P11-11.10h-1", "P11-11.10f-1", "E6-2.3-1"),
                ),
                self.lifecycle,
            ),
            (
                Step(
                    "correction",
                    "the baseline count corrected, with its reason, as a new entry",
                    ("P11-11.10e-2",),
                ),
                self.correction,
            ),
            (
                Step(
                    "signature",
                    "the investigator signs the subject's records (review), "
                    "re-entering the user id and password",
                    ("P11-11.50-1", "P11-11.70-1"),
                ),
                self.signature,
            ),
            (
                Step(
                    "read back",
                    "the subject's history read through the API holds each record "
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
                    "every record of the subject",
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

    def lifecycle(self, step: Step) -> None:
        """Sign and submit each record as its author."""
        signer = {COORDINATOR: COORDINATOR, INVESTIGATOR: INVESTIGATOR}
        for record in lifecycle_records():
            self._submit(record.kind, record.data, signer[record.signer])
        step.passed(subject=self.subject, site=PQ_SITE, events=_placed(self._sent))

    def correction(self, step: Step) -> None:
        """Correct the baseline count's haemoglobin (entry 4), old -> new, with its reason."""
        counted = next(s for s in self._sent if s["kind"] == Subject.BloodCountRecorded.kind())
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
        self._submit(Subject.EntryCorrected.kind(), data, COORDINATOR)
        step.passed(corrected_entry=counted["version"], correction=_placed(self._sent[-1:]))

    def signature(self, step: Step) -> None:
        """The investigator signs every record sent (the correction as a change of them)."""
        entries = [s["version"] for s in self._sent if s["kind"] != Subject.EntryCorrected.kind()]
        answer = client.sign_records(
            self.sender(INVESTIGATOR),
            study=STUDY,
            subject=self.subject,
            entries=entries,
            meaning="review",
            idempotency_key=None,
        )
        receipt = answer["receipt"]
        step.passed(
            signed_entries=entries,
            position=receipt["position"],
            version=receipt["version"],
            event_hash=receipt["event_hash"],
        )

    def read_back(self, step: Step) -> None:
        """The history as the API gives it, compared with what was sent."""
        history = client.history(self.sender(INVESTIGATOR), STUDY, self.subject)
        by_version = {item["version"]: item for item in history}
        differences = []
        for sent in self._sent:
            held = by_version.get(sent["version"])
            if held is None:
                differences.append(f"entry {sent['version']} is missing")
                continue
            for name in ("kind", "position", "event_hash"):
                if held.get(name) != sent[name]:
                    differences.append(f"entry {sent['version']}: {name} {held.get(name)!r}")
            if held.get("data") != sent["data"]:
                differences.append(f"entry {sent['version']}: its data differs from what was sent")
        corrected = next(s for s in self._sent if s["kind"] == Subject.EntryCorrected.kind())
        target = by_version.get(corrected["data"]["entry"], {})
        if corrected["version"] not in (target.get("corrected_by") or []):
            differences.append(f"entry {corrected['data']['entry']} does not name its correction")
        if differences:
            step.failed("; ".join(differences), entries=len(history))
            return
        step.passed(entries=len(history), compared=len(self._sent))

    def packet(self, step: Step) -> None:
        """POST /v1/packets as the sponsor's data manager; the zip verified offline."""
        from infrastructure.packets.verify import verify_packet

        headers = client.session_headers(self.sender(DATA_MANAGER))
        data = client.fetch_bytes(
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
        last = max(sent["position"] for sent in self._sent)
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
        needed = max(sent["leaf_index"] for sent in self._sent) + 1
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

    def _submit(self, kind: str, data: dict[str, Any], duty: str) -> None:
        receipt = client.submit(
            self.sender(duty),
            meaning="authorship",
            idempotency_key=None,
            event={"study": STUDY, "subject": self.subject, "kind": kind, "data": data},
        )
        self._sent.append(
            {
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
