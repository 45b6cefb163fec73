"""A site's own copy (issue 18, point 8): its subjects only, verifiable offline, with the proof
that none of the site's is hidden and none of another site's slipped in.

The store is tiny: two subjects at RP, one at SP. A dishonest builder is played by a filter
that keeps or leaves out what an honest one would not, the manifest signed as the real one is.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from domain.account import Account, Role, account_stream
from domain.errors import NotPermitted, SiteCopyReceiptInvalid
from domain.permissions import check_may_receive_site_copy
from domain.signed import SignedAggregate, stream_id
from domain.site_copy import check_site_copy_receipt
from infrastructure.bootstrap import Store, open_store
from infrastructure.errors import PacketNotBuildable, PacketSignerInvalid
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets import build as builder
from infrastructure.packets.archive import Manifest
from infrastructure.packets.build import PacketSignatory, build_packet
from infrastructure.packets.evidence import EVENTS, MANIFEST
from infrastructure.packets.site_scope import INVESTIGATOR, WITHHELD, BuiltBy, WithheldLeaf
from infrastructure.packets.verify import verify_packet
from signatures.keys import private_key_to_pem
from tests.access.conftest import Admin
from tests.access.test_permission_matrix import person_account
from tests.cli_stores import sealtrail
from tests.conftest import (
    BACKENDS,
    Person,
    PersonFactory,
    consent,
    console_env,
    make_settings,
    open_person,
    screening,
)
from tests.e2e.conftest import Site
from tests.insider import connection
from tests.integration.test_tamper_evidence import drop_triggers
from tests.packets.test_packet_cli import offline

RP_COPY = BuiltBy(INVESTIGATOR, "inv1", "RP")
ROOT = base64.b64encode(bytes(32)).decode()


def two_sites(store: Store, person_in: PersonFactory) -> dict[str, Person]:
    """RP-01 (screened, consented) and RP-02 at RP; SP-01 (screened, consented) at SP."""
    open_sponsor_account(store.administration, store.settings)
    rp = person_in(store, "inv1", printed_name="Rui Paz", role=Role.INVESTIGATOR, sites=("RP",))
    sp = person_in(store, "inv9", printed_name="Sara Pinto", role=Role.INVESTIGATOR, sites=("SP",))
    rp.record(store, "RP-01", "Screened", screening())
    sp.record(store, "SP-01", "Screened", screening(site="SP", sex="M", age=51))
    rp.record(store, "RP-01", "ConsentObtained", consent())
    sp.record(store, "SP-01", "ConsentObtained", consent())
    rp.record(store, "RP-02", "Screened", screening(age=60))
    return {"inv1": rp, "inv9": sp}


def files_of(packet: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def streams_in(packet: bytes, path: str) -> set[str]:
    lines = files_of(packet)[path].decode().splitlines()
    return {json.loads(line)["stream"] for line in lines}


@pytest.mark.requirement("E6-3.16.1-1")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_site_copy_holds_its_site_alone_and_verifies_offline(
    store: Store, person_in: PersonFactory
) -> None:
    two_sites(store, person_in)

    copy = build_packet(store, documents=False, site_copy=RP_COPY)
    report = verify_packet(copy)

    assert report.findings == []
    assert report.site == "RP"
    manifest = Manifest.parse(files_of(copy)[MANIFEST])
    assert manifest.built_by == RP_COPY
    held = streams_in(copy, EVENTS)
    assert {"NCT01297972/RP-01", "NCT01297972/RP-02", "accounts/inv1", "accounts/sponsor"} <= held
    assert "NCT01297972/SP-01" not in held
    assert streams_in(copy, WITHHELD) == {"NCT01297972/SP-01", "accounts/inv9"}
    assert b"SP-01" not in files_of(copy)["datasets/DM.csv"]
    assert b"RP-02" in files_of(copy)["datasets/DM.csv"]
    # the sponsor's packet of the same log says that it is the sponsor's, and withholds nothing
    study = build_packet(store, documents=False)
    assert Manifest.parse(files_of(study)[MANIFEST]).built_by == BuiltBy("sponsor", "sponsor")
    assert WITHHELD not in files_of(study)
    assert verify_packet(study).findings == []


@pytest.mark.requirement("LGPD-46-1")
def test_a_site_copy_holds_nothing_personal_of_another_site(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    people = two_sites(sqlite_store, person_in)
    site = Site(sqlite_store)
    sp_history = "/v1/studies/NCT01297972/subjects/SP-01/history"
    taken = site.client.get(sp_history, headers=site.auth(people["inv9"]))  # a disclosure
    [sp_screening] = sqlite_store.reads.history("NCT01297972/SP-01")[:1]
    screening_body = sp_screening.event.authorship.signed_body

    response = site.client.post(
        "/v1/packets", json={"documents": False, "site": "RP"}, headers=site.auth(people["inv1"])
    )
    copy = response.get_data()
    files = files_of(copy)

    assert taken.status_code == 200 and response.status_code == 200
    assert verify_packet(copy).findings == []
    held, withheld = streams_in(copy, EVENTS), streams_in(copy, WITHHELD)
    assert {"accounts/inv1", "authentication/inv1", "NCT01297972/RP-01"} <= held
    assert {"accounts/inv9", "authentication/inv9", "disclosures/inv9"} <= withheld
    assert not {stream for stream in held if "inv9" in stream or "SP-" in stream}
    for name, content in files.items():
        assert b"Sara Pinto" not in content, name  # SP's investigator's printed name
        for form in (screening_body, json.dumps(screening_body)[1:-1]):
            assert form.encode() not in content, name  # SP-01's screening, raw or quoted


class _Dishonest(builder._SiteFilter):
    """A builder that also keeps the streams ``slipped`` in and leaves ``hidden`` out (stating
    a withheld subject's site or not), as a server serving the sponsor and not the site could."""

    slipped: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    site_given = True

    def __call__(self, event: SignedAggregate.Event) -> bool:
        honest = super().__call__(event)
        return event.stream in self.slipped or (honest and event.stream not in self.hidden)

    def withheld(
        self, leaf_index: int, position: int, event: SignedAggregate.Event
    ) -> WithheldLeaf:
        leaf = super().withheld(leaf_index, position, event)
        return leaf if self.site_given else WithheldLeaf(**{**leaf.__dict__, "site": None})


@pytest.fixture
def dishonest(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Dishonest]]:
    class Filter(_Dishonest):
        pass

    monkeypatch.setattr(builder, "_SiteFilter", Filter)
    yield Filter


def kinds(packet: bytes) -> set[tuple[str, str | None]]:
    return {(f.kind, f.stream) for f in verify_packet(packet).findings}


RP_02, SP_01 = "NCT01297972/RP-02", "NCT01297972/SP-01"


@pytest.mark.parametrize(
    ("slipped", "hidden", "site_given", "found"),
    [
        ((), (RP_02,), True, {("subject-withheld", RP_02)}),
        ((), (RP_02,), False, {("site-unstated", RP_02), ("site-unstated", SP_01)}),
        ((SP_01, "accounts/inv9"), (), True, {("subject-of-another-site", SP_01)}),
        ((), ("disclosures/inv1",), True, {("person-partly-withheld", "disclosures/inv1")}),
    ],
    ids=[
        "a-subject-of-the-site-hidden",
        "sites-not-stated",
        "another-sites-subject-held",
        "a-held-persons-disclosures-hidden",
    ],
)
@pytest.mark.requirement("E6-3.16.1-1")
def test_packet_verify_refuses_a_copy_that_is_not_the_sites_whole(
    sqlite_store: Store,
    person_in: PersonFactory,
    dishonest: type[_Dishonest],
    slipped: tuple[str, ...],
    hidden: tuple[str, ...],
    site_given: bool,
    found: set[tuple[str, str]],
) -> None:
    investigator = two_sites(sqlite_store, person_in)["inv1"]
    site = Site(sqlite_store)  # RP's investigator takes a copy of RP-01: a disclosure
    rp_history = "/v1/studies/NCT01297972/subjects/RP-01/history"
    assert site.client.get(rp_history, headers=site.auth(investigator)).status_code == 200
    dishonest.slipped, dishonest.hidden = frozenset(slipped), frozenset(hidden)
    dishonest.site_given = site_given

    assert kinds(build_packet(sqlite_store, documents=False, site_copy=RP_COPY)) == found


def test_packet_verify_refuses_a_copy_keeping_part_of_a_subject_or_a_person(
    sqlite_store: Store, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_sites(sqlite_store, person_in)
    honest = builder._SiteFilter.__call__
    monkeypatch.setattr(
        builder._SiteFilter,
        "__call__",
        lambda self, event: honest(self, event) and event.originator_version < 2,
    )

    found = kinds(build_packet(sqlite_store, documents=False, site_copy=RP_COPY))

    assert ("subject-partly-withheld", "NCT01297972/RP-01") in found
    assert ("stream-partly-withheld", "accounts/inv1") in found


def test_a_site_copy_names_its_builder_and_only_the_sites_investigator_signs_it(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    people = two_sites(sqlite_store, person_in)
    rp, sp = people["inv1"], people["inv9"]

    signed = build_packet(
        sqlite_store,
        documents=False,
        site_copy=RP_COPY,
        signatory=PacketSignatory(rp.user_id, rp.private_key),
    )
    report = verify_packet(signed)

    assert report.findings == []
    assert report.signer is not None and report.signer.user_id == "inv1"
    with pytest.raises(PacketSignerInvalid, match="or an investigator of site RP its copy"):
        build_packet(
            sqlite_store,
            documents=False,
            site_copy=RP_COPY,
            signatory=PacketSignatory(sp.user_id, sp.private_key),
        )
    # a copy said to be built by another site's investigator is found so
    stranger = BuiltBy(INVESTIGATOR, "inv9", "RP")
    assert kinds(build_packet(sqlite_store, documents=False, site_copy=stranger)) == {
        ("builder-not-investigator", None)
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_site_copy_over_the_api_and_who_may_not_have_one(
    store: Store, person_in: PersonFactory
) -> None:
    people = two_sites(store, person_in)
    coordinator = person_in(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    manager = person_in(store, "dm1", role=Role.SPONSOR_DATA_MANAGER, sites=())
    site = Site(store)

    def ask(person: Person, rp: str = "RP") -> tuple[int, bytes]:
        response = site.client.post(
            "/v1/packets", json={"documents": False, "site": rp}, headers=site.auth(person)
        )
        return response.status_code, response.get_data()

    status, copy = ask(people["inv1"])
    assert status == 200
    assert verify_packet(copy).findings == []
    assert Manifest.parse(files_of(copy)[MANIFEST]).built_by == RP_COPY
    refused = [ask(people["inv9"]), ask(coordinator), ask(manager)]
    assert [status for status, _ in refused] == [403, 403, 403]
    assert b"does not act for site 'RP'" in refused[0][1]
    assert ask(people["inv1"], "RP-50\n")[0] == 422


@pytest.mark.requirement("E6-3.16.1-1")
def test_the_site_copy_on_the_console_verifies_where_the_store_is_not_and_its_receipt_is_signed(
    home_on_each_backend: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home, tmp_path = home_on_each_backend, tmp_path_factory.mktemp("elsewhere")
    store = open_store(make_settings(home))
    try:
        investigator = open_person(store, "inv1", role=Role.INVESTIGATOR)
        coordinator = open_person(store, "coord1", role=Role.SITE_COORDINATOR)
        investigator.record(store, "RP-01", "Screened", screening())
    finally:
        store.close()
    out = home / "rp.zip"
    key = home / "inv1.pem"
    key.write_bytes(private_key_to_pem(investigator.private_key))

    def build(person: Person) -> int:
        args = ("packet", "build", "--site", "RP", "--no-documents", "--out", str(out))
        done = sealtrail(*args, home=home, extra_env=console_env(person))
        return done.returncode

    assert build(coordinator) == 1
    assert not out.exists()
    assert build(investigator) == 0
    verified = offline("packet", "verify", str(out), cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.startswith("packet verified:")

    receive = ("packet", "receive", str(out), "--key", str(key))
    refused = sealtrail(*receive, home=home, extra_env=console_env(coordinator))
    received = sealtrail(*receive, home=home, extra_env=console_env(investigator))

    assert refused.returncode == 1
    assert refused.stderr.startswith("sealtrail: Not permitted")
    assert received.returncode == 0, received.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert received.stdout.startswith(f"receipt recorded: site RP\tsha256:{digest}")
    store = open_store(make_settings(home))
    try:
        receipts = [
            event
            for event in store.app.repository.event_store.get(stream_id(account_stream("inv1")))
            if isinstance(event, Account.SiteCopyReceived)
        ]
        assert [(r.site, r.packet_sha256) for r in receipts] == [("RP", digest)]
        assert receipts[0].authorship.body()["signer"]["user_id"] == "inv1"
    finally:
        store.close()
    assert sealtrail("verify", home=home).returncode == 0


def receipt(person: Person, **data: object) -> dict[str, object]:
    """A signed SiteCopyReceived on ``person``'s account, as POST /v1/accounts takes it, naming
    a checkpoint the store sealed (unless ``data`` names another)."""
    sealed = person.store.app.checkpoints.seal()
    fields = {
        "site": "RP",
        "packet_sha256": "ab" * 32,
        "tree_size": sealed.tree_size,
        "root": base64.b64encode(sealed.root).decode(),
        **data,
    }
    signer = Admin(person.user_id, person.printed_name, person.private_key, "", person.store)
    return {"events": [signer.signed(person.user_id, "SiteCopyReceived", fields)]}


def test_the_receipt_over_the_api_and_its_refusals(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    people = two_sites(sqlite_store, person_in)
    rp, sp = people["inv1"], people["inv9"]
    coordinator = person_in(sqlite_store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    site = Site(sqlite_store)

    def post(person: Person, body: dict[str, object]) -> int:
        response = site.client.post("/v1/accounts", json=body, headers=site.auth(person))
        return int(response.status_code)

    versions = {
        p.user_id: sqlite_store.app.account(p.user_id).version for p in (rp, sp, coordinator)
    }
    assert post(sp, receipt(sp)) == 403  # another site's copy
    assert post(coordinator, receipt(coordinator)) == 403  # a role that takes no copy
    assert post(sp, receipt(rp)) == 403  # signed by one, sent by another
    assert post(rp, receipt(rp, packet_sha256="AB" * 32)) == 422
    assert post(rp, receipt(rp, packet_sha256="ab" * 31 + "a\n")) == 422
    assert post(rp, receipt(rp, tree_size=0)) == 422
    assert post(rp, receipt(rp, root=ROOT)) == 422  # a root this log never had at that size
    assert post(rp, receipt(rp, tree_size=2**53 - 1)) == 422  # a checkpoint beyond the log
    assert {
        p.user_id: sqlite_store.app.account(p.user_id).version for p in (rp, sp, coordinator)
    } == versions
    assert post(rp, receipt(rp)) == 201
    assert sqlite_store.app.account(rp.user_id).version == versions["inv1"] + 1


@pytest.mark.parametrize(
    ("sha", "size", "root"),
    [
        ("AB" * 32, 1, ROOT),
        ("ab" * 31 + "a", 1, ROOT),
        ("ab" * 31 + "a\n", 1, ROOT),
        ("ab" * 31 + "a\x00", 1, ROOT),
        ("ab" * 32, 0, ROOT),
        ("ab" * 32, 2**63, ROOT),
        ("ab" * 32, True, ROOT),
        ("ab" * 32, 1, "not base64!"),
        ("ab" * 32, 1, base64.b64encode(bytes(31)).decode()),
    ],
)
def test_a_receipt_names_a_packet_and_a_checkpoint_as_they_are_written(
    sha: str, size: int, root: str
) -> None:
    with pytest.raises(SiteCopyReceiptInvalid):
        check_site_copy_receipt(sha, size, root)


def test_only_the_sites_investigator_records_a_receipt_on_their_own_account() -> None:
    fields = {"site": "RP"}
    own = person_account(Role.INVESTIGATOR, sites=("RP",))

    check_may_receive_site_copy(own, own.user_id, fields)
    for actor, user_id, site in [
        (own, "someone-else", "RP"),
        (own, own.user_id, "SP"),
        (own, own.user_id, "RP\n"),
        (person_account(Role.SITE_COORDINATOR, sites=("RP",)), own.user_id, "RP"),
        (person_account(Role.SPONSOR_DATA_MANAGER, sites=()), own.user_id, "RP"),
    ]:
        with pytest.raises(NotPermitted):
            check_may_receive_site_copy(actor, user_id, {"site": site})


@pytest.mark.requirement("E6-3.16.1-1")
def test_a_site_copy_is_refused_when_the_log_changes_between_its_two_readings(
    sqlite_store: Store, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site copy decides which people it keeps from a first reading of the accounts; an
    insider with the database who assigns SP's investigator to RP for that reading alone (the
    row put back before the events are read and checked against the checkpoint) would have
    SP's investigator's streams in RP's copy, which packet verify does not name."""
    two_sites(sqlite_store, person_in)
    drop_triggers(sqlite_store)
    url = sqlite_store.settings.database_url
    assigned = stream_id(account_stream("inv9")).hex

    def swap(old: bytes, new: bytes) -> None:
        with connection(url) as execute:
            rows = execute(
                "SELECT originator_version, state FROM stored_events WHERE originator_id = ? "
                "AND topic LIKE '%SiteAssigned'",
                (assigned,),
            )
            assert len(rows) == 1 and old in rows[0][1]
            execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                (rows[0][1].replace(old, new), assigned, rows[0][0]),
            )

    class RacedFilter(builder._SiteFilter):
        def __init__(self, site: str | None, logged: Iterable[SignedAggregate.Event]) -> None:
            swap(b'"site":"SP"', b'"site":"RP"')
            try:
                super().__init__(site, logged)
            finally:
                swap(b'"site":"RP"', b'"site":"SP"')

    monkeypatch.setattr(builder, "_SiteFilter", RacedFilter)

    with pytest.raises(PacketNotBuildable, match="the log changed while it was read"):
        build_packet(sqlite_store, documents=False, site_copy=RP_COPY)
