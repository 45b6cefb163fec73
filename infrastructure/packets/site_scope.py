"""A site's own copy: the packet of one site's subjects, with the proof that none is hidden.

A site copy (issue 18, point 8) holds every event of the log but those of other sites'
subjects: the site's subjects whole, every account (whose keys verify the signatures), each with
its inclusion proof in the same checkpoint as a sponsor's packet. The events it leaves out are
still accounted for, a line each in ``log/withheld-leaves.jsonl``: the fields of the event's leaf
(so the verifier rebuilds the checkpoint's whole tree from the packet alone: no leaf can be
added, dropped or changed) and the stream's name, whose id the leaf commits to. The first event
of every withheld subject, its screening, is given as its author signed it: its chain hash is
the leaf's, and it names the site, which is never corrected. So the verifier knows, offline,
that every subject left out is another site's, and that every subject in the copy is the
site's: a builder can neither hide one of the site's subjects nor slip in another site's.

What this costs the site's privacy of others: the codes of other sites' subjects and their
screening records (site, sex, age, date) travel in the copy; nothing they recorded afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.account import Account, Role
from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.errors import PacketMalformed
from infrastructure.packets.evidence import json_line, json_object
from signatures.chain import GENESIS_HASH, event_hash
from signatures.errors import VerificationError
from signatures.log_leaf import event_leaf
from signatures.merkle import InMemoryTree, leaf_hash

WITHHELD = "log/withheld-leaves.jsonl"
SCREENED = Subject.Screened.__name__
SPONSOR, INVESTIGATOR = "sponsor", "investigator"
_INTEGERS = frozenset({"leaf_index", "position", "version"})
_OPTIONAL = frozenset({"screening_body", "screening_signature"})


@dataclass(frozen=True)
class BuiltBy:
    """Who had a packet built, as its manifest says: the sponsor (the whole study) or a site's
    investigator (that site only)."""

    party: str
    user_id: str
    site: str | None = None

    def body(self) -> dict[str, Any]:
        """The manifest's ``built_by`` object."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def parse(cls, value: Any) -> BuiltBy:
        """Read the manifest's ``built_by``.

        Raises:
            PacketMalformed: not a party this format knows, or a site copy naming no site.
        """
        if not isinstance(value, dict) or set(value) - {"party", "user_id", "site"}:
            raise PacketMalformed("built_by is not an object of party, user_id and site")
        party, user_id, site = value.get("party"), value.get("user_id"), value.get("site")
        if not isinstance(user_id, str) or not user_id:
            raise PacketMalformed("built_by names no user")
        if party == SPONSOR and site is None:
            return cls(SPONSOR, user_id)
        if party == INVESTIGATOR and isinstance(site, str) and site:
            return cls(INVESTIGATOR, user_id, site)
        raise PacketMalformed(
            f"built_by must be the sponsor (no site) or an investigator with a site, not "
            f"{party!r} with site {site!r}"
        )


@dataclass(frozen=True)
class WithheldLeaf:
    """An event a site copy leaves out (a line of ``log/withheld-leaves.jsonl``): its leaf's
    fields, its stream's name, and for a subject's first event its screening as signed."""

    leaf_index: int
    position: int
    stream: str
    stream_id: str
    version: int
    recorded_at: str
    event_hash: str
    screening_body: str | None = None
    screening_signature: str | None = None

    def line(self) -> str:
        """The leaf as a line of ``log/withheld-leaves.jsonl``."""
        return json_line(asdict(self))

    def leaf(self) -> bytes:
        """The leaf hash its fields give."""
        return leaf_hash(
            event_leaf(
                position=self.position,
                stream_id=self.stream_id,
                version=self.version,
                recorded_at=self.recorded_at,
                event_hash=self.event_hash,
            )
        )

    @classmethod
    def from_line(cls, line: str, number: int) -> WithheldLeaf:
        """Read a line back.

        Raises:
            PacketMalformed: not a JSON object with exactly these fields, of these types.
        """
        fields = json_object(line, WITHHELD, number)
        if set(fields) != set(cls.__dataclass_fields__):
            raise PacketMalformed(f"{WITHHELD} line {number}: not the fields of a withheld leaf")
        for name, value in fields.items():
            if name in _INTEGERS:
                fits = isinstance(value, int) and not isinstance(value, bool)
            else:
                fits = isinstance(value, str) or (value is None and name in _OPTIONAL)
            if not fits:
                raise PacketMalformed(f"{WITHHELD} line {number}: {name} is not what it must be")
        return cls(**fields)

    def screened_site(self) -> str:
        """The site the withheld subject's screening names.

        Raises:
            VerificationError: no screening is given, or it is not this leaf's event.
        """
        if self.screening_body is None or self.screening_signature is None:
            raise VerificationError("its screening is not given")
        try:
            chained = event_hash(
                GENESIS_HASH, self.screening_body.encode("utf-8"), self.screening_signature
            )
            body = json.loads(self.screening_body)
        except (ValueError, VerificationError) as error:
            raise VerificationError(f"its screening cannot be read: {error}") from None
        if chained != self.event_hash:
            raise VerificationError("the screening given is not the event its leaf commits to")
        if (
            not isinstance(body, dict)
            or body.get("kind") != SCREENED
            or Subject.Screened.stream_of(body) != self.stream
        ):
            raise VerificationError("the event its leaf commits to is not its screening")
        data = body.get("data")
        site = data.get("site") if isinstance(data, dict) else None
        if not isinstance(site, str):
            raise VerificationError("its screening names no site")
        return site


def withheld_leaf(
    leaf_index: int, position: int, event: SignedAggregate.Event, signed_body: str | None = None
) -> WithheldLeaf:
    """The line of an event a site copy leaves out (``signed_body``: its screening's)."""
    return WithheldLeaf(
        leaf_index=leaf_index,
        position=position,
        stream=event.stream,
        stream_id=event.originator_id.hex,
        version=event.originator_version,
        recorded_at=recorded_instant(event.recorded_at),
        event_hash=event.event_hash,
        screening_body=signed_body,
        screening_signature=None if signed_body is None else event.authorship.signature,
    )


def may_sign_site_copy(account: Account, site: str) -> bool:
    """A site copy may be signed by an investigator in force at its site (or the sponsor)."""
    return account.effective_role is Role.INVESTIGATOR and account.acts_for(site)


Find = Callable[[str, str, int | None, str | None], None]
"""Told each thing a site copy's scope does not hold: its kind, detail, position and stream."""


def check_scope(
    study: str,
    built_by: BuiltBy,
    withheld: Iterable[WithheldLeaf],
    included: Mapping[str, Subject],
    accounts: Mapping[str, Account],
    find: Find,
) -> None:
    """Every subject in the copy is of its site; every subject left out is another site's,
    wholly left out; the person it names as building it is an investigator of the site.

    ``included``: the copy's subjects by stream, as its events leave them.
    """
    site = built_by.site
    for stream, subject in included.items():
        if subject.site != site:
            detail = f"{subject.subject_code} is a subject of site {subject.site!r}, not {site!r}"
            find("subject-of-another-site", detail, None, stream)
    screened: dict[str, str] = {}
    for leaf in withheld:
        _check_withheld(study, leaf, included, screened, find)
    streams = {leaf.stream for leaf in withheld if leaf.stream.startswith(f"{study}/")}
    for stream in sorted(streams - set(included)):
        if screened.get(stream) == site:
            find("subject-withheld", f"a subject of site {site!r} is left out", None, stream)
        elif stream not in screened:
            find("screening-unproven", "a subject left out without its screening", None, stream)
    builder = accounts.get(built_by.user_id)
    if builder is None or not may_sign_site_copy(builder, site or ""):
        detail = f"{built_by.user_id} is not an investigator in force at site {site!r}"
        find("builder-not-investigator", detail, None, None)


def _check_withheld(
    study: str,
    leaf: WithheldLeaf,
    included: Mapping[str, Subject],
    screened: dict[str, str],
    find: Find,
) -> None:
    """One withheld leaf: of a subject, named truly, not of a subject the copy holds; a
    subject's screening gives its site (into ``screened``)."""
    kind, detail = "", ""
    if not leaf.stream.startswith(f"{study}/"):
        kind, detail = "withheld-not-a-subject", "a site copy leaves out other sites' subjects only"
    elif stream_id(leaf.stream).hex != leaf.stream_id:
        kind, detail = "withheld-stream-misnamed", "its stream id is not that of the stream named"
    elif leaf.stream in included:
        kind, detail = "subject-partly-withheld", f"version {leaf.version} of a held subject"
    elif leaf.version == 1:
        try:
            screened[leaf.stream] = leaf.screened_site()
        except VerificationError as error:
            kind, detail = "screening-unproven", str(error)
    if kind:
        find(kind, detail, leaf.position, leaf.stream)


def tree_root(leaves: Iterable[tuple[int, bytes]]) -> bytes | None:
    """The root of the tree of these (leaf index, leaf hash), or None when the indexes do not
    run 0, 1, 2... once each (the leaf check names which)."""
    tree = InMemoryTree()
    for expected, (index, hashed) in enumerate(sorted(leaves)):
        if index != expected:
            return None
        tree.append_hash(hashed)
    return tree.root()
