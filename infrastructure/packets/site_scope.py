"""A site's own copy: the packet of one site's subjects, with the proof that none is hidden.

A site copy (issue 18, point 8) holds the site's subjects whole and the people who may act for
the site (every account never assigned another site only: the site's staff, the sponsor's and
the administrators, whose keys verify the signatures), each person's account, authentication log
and disclosure log, with each event's inclusion proof in the same checkpoint as a sponsor's
packet. It holds nothing of another site's subjects nor of their staff: the events it leaves out
are accounted for, a line each in ``log/withheld-leaves.jsonl``, by the fields of the event's
leaf (so the verifier rebuilds the checkpoint's whole tree from the packet alone: no leaf can be
added, dropped or changed) and the stream's name, whose id the leaf commits to. The line of a
withheld subject's first event names the site the builder states the subject is of.

What the verifier checks offline: every subject held is the site's (by its own screening);
every subject left out is stated to be of another site; no stream is held in part; a person
left out has no stream held; the builder named is an investigator of the site. What it cannot:
that a withheld subject's stated site is its screening's, since the screening (site, sex, age,
date) is another site's personal data and stays out. A builder who said one of the site's
subjects was another's would be caught by the site's own list of its subject codes (every code
left out is in the file, with its stated site) or by a sponsor's packet of the same checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.account import Account, Role, account_stream
from domain.authentication import authentication_stream
from domain.disclosure import disclosure_stream
from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.errors import PacketMalformed
from infrastructure.packets.evidence import fields_line, json_object
from signatures.log_leaf import event_leaf
from signatures.merkle import InMemoryTree, leaf_hash

WITHHELD = "log/withheld-leaves.jsonl"
SPONSOR, INVESTIGATOR = "sponsor", "investigator"
_INTEGERS = frozenset({"leaf_index", "position", "version"})
_OPTIONAL = frozenset({"site"})
PERSON_STREAMS = (account_stream(""), authentication_stream(""), disclosure_stream(""))
"""The prefixes of a person's streams: their account, authentication log and disclosure log."""


def person_of(stream: str) -> str | None:
    """The user id (or ``~no-account``) whose account, authentication log or disclosure log
    ``stream`` is; None for any other stream."""
    for prefix in PERSON_STREAMS:
        if stream.startswith(prefix):
            return stream.removeprefix(prefix)
    return None


def keeps_person(sites_ever: Mapping[str, frozenset[str]], user_id: str, site: str) -> bool:
    """Whether a site copy of ``site`` holds a person's streams: they have an account
    (``sites_ever`` names every account, with each site it was ever assigned) that was never
    assigned a site, or was assigned this one."""
    sites = sites_ever.get(user_id)
    return sites is not None and (not sites or site in sites)


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
            "built_by must be the sponsor (no site) or an investigator with a "
            "site, not %(party)r with site %(site)r",
            party=party,
            site=site,
        )


@dataclass(frozen=True)
class WithheldLeaf:
    """An event a site copy leaves out (a line of ``log/withheld-leaves.jsonl``): its leaf's
    fields, its stream's name, and for a subject's first event the site the builder states."""

    leaf_index: int
    position: int
    stream: str
    stream_id: str
    version: int
    recorded_at: str
    event_hash: str
    site: str | None = None

    def line(self) -> str:
        """The leaf as a line of ``log/withheld-leaves.jsonl``."""
        return fields_line(self)

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
            raise PacketMalformed(
                "%(withheld)s line %(number)s: not the fields of a withheld leaf",
                withheld=WITHHELD,
                number=number,
            )
        for name, value in fields.items():
            if name in _INTEGERS:
                fits = isinstance(value, int) and not isinstance(value, bool)
            else:
                fits = isinstance(value, str) or (value is None and name in _OPTIONAL)
            if not fits:
                raise PacketMalformed(
                    "%(withheld)s line %(number)s: %(name)s is not what it must be",
                    withheld=WITHHELD,
                    number=number,
                    name=name,
                )
        return cls(**fields)


def withheld_leaf(
    leaf_index: int, position: int, event: SignedAggregate.Event, site: str | None = None
) -> WithheldLeaf:
    """The line of an event a site copy leaves out (``site``: a subject's, on its first)."""
    return WithheldLeaf(
        leaf_index=leaf_index,
        position=position,
        stream=event.stream,
        stream_id=event.originator_id.hex,
        version=event.originator_version,
        recorded_at=recorded_instant(event.recorded_at),
        event_hash=event.event_hash,
        site=site,
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
    held: Iterable[str],
    accounts: Mapping[str, Account],
    find: Find,
) -> None:
    """Every subject in the copy is of its site; every subject left out is stated to be
    another site's, wholly left out; a person left out has no stream held; the person it
    names as building it is an investigator of the site.

    ``included``: the copy's subjects by stream, as its events leave them; ``held``: the
    streams of its events; ``accounts``: its accounts by user id.
    """
    site = built_by.site
    for stream, subject in included.items():
        if subject.site != site:
            detail = f"{subject.subject_code} is a subject of site {subject.site!r}, not {site!r}"
            find("subject-of-another-site", detail, None, stream)
    held_streams = set(held)
    stated: dict[str, str] = {}
    for leaf in withheld:
        _check_withheld(study, leaf, held_streams, accounts, stated, find)
    streams = {leaf.stream for leaf in withheld if leaf.stream.startswith(f"{study}/")}
    for stream in sorted(streams - held_streams):
        if stated.get(stream) == site:
            find("subject-withheld", f"a subject of site {site!r} is left out", None, stream)
        elif stream not in stated:
            find("site-unstated", "a subject left out without the site it is of", None, stream)
    builder = accounts.get(built_by.user_id)
    if builder is None or not may_sign_site_copy(builder, site or ""):
        detail = f"{built_by.user_id} is not an investigator in force at site {site!r}"
        find("builder-not-investigator", detail, None, None)


def _check_withheld(
    study: str,
    leaf: WithheldLeaf,
    held: set[str],
    accounts: Mapping[str, Account],
    stated: dict[str, str],
    find: Find,
) -> None:
    """One withheld leaf: of a subject or a person, named truly, of no stream the copy holds,
    of no person whose account it holds; a subject's first states its site (into ``stated``)."""
    kind, detail = "", ""
    subject = leaf.stream.startswith(f"{study}/")
    person = person_of(leaf.stream)
    if not subject and person is None:
        kind = "withheld-not-of-another-site"
        detail = "a site copy leaves out other sites' subjects and people only"
    elif stream_id(leaf.stream).hex != leaf.stream_id:
        kind, detail = "withheld-stream-misnamed", "its stream id is not that of the stream named"
    elif leaf.stream in held:
        kind = "subject-partly-withheld" if subject else "stream-partly-withheld"
        detail = f"version {leaf.version} of a held stream"
    elif person is not None and person in accounts:
        kind, detail = "person-partly-withheld", f"a stream of {person}, whose account is held"
    elif subject and leaf.version == 1 and leaf.site is not None:
        stated[leaf.stream] = leaf.site
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
