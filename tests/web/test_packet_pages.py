"""``/packets`` through Flask's test client, over the demonstration store: a sponsor data
manager builds the study's packet and an investigator their site's copy, each recorded as the
API's build is (channel web); anyone signed in verifies a packet and reads every finding by its
file; every refusal is the page with its error summary, and changes nothing."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import update
from werkzeug.test import TestResponse

from api.demonstration.staff import STAFF
from api.web.packets import FORM_ALLOWANCE, MAX_PACKET
from domain.account import Role
from domain.disclosure import PACKET
from infrastructure.bootstrap import Store, open_store
from infrastructure.packets.build_rows import packet_builds
from infrastructure.packets.builds import BUILDING, READY, STALE_SECONDS, PacketBuilds
from infrastructure.packets.verify import PacketReport, verify_packet
from infrastructure.settings import PRIVATE_FOLDER
from tests.access.conftest import make_person
from tests.browser.harness import DemoPerson, give_demo_passwords
from tests.conftest import STUDY, make_settings
from tests.packets.zips import one_byte_changed, zip_of
from tests.web.conftest import Browser, text

DATA_MANAGER, INVESTIGATOR, MONITOR = "data_manager", "investigator", "monitor"
SITE = STAFF[INVESTIGATOR].sites[0]
TAMPERED = "datasets/LB.csv"
"""A derived file of every packet, the laboratory results (a byte of it changed)."""


@dataclass
class Demo:
    """The demonstration store, its staff with passwords, and the study's packet built once
    over the page by the data manager."""

    store: Store
    people: dict[str, DemoPerson]
    built: TestResponse | None = None
    verified: PacketReport | None = None

    def browser(self, role: str) -> Browser:
        person = self.people[role]
        browser = Browser(self.store)
        answer = browser.sign_in(person.user_id, person.password)
        assert answer.status_code == 302, text(answer)
        return browser

    def copies(self, role: str) -> list[Any]:
        return self.store.disclosures.of(self.people[role].user_id)

    def packet(self) -> bytes:
        if self.built is None:
            self.built = downloaded(self.browser(DATA_MANAGER), "study")
        assert self.built.status_code == 200, text(self.built)
        return self.built.get_data()

    def report(self) -> PacketReport:
        """What the verifier finds in the packet built, asked directly."""
        if self.verified is None:
            self.verified = verify_packet(self.packet(), redraw_documents=False)
        return self.verified


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("packet-pages")
    shutil.copytree(demo_template, home, dirs_exist_ok=True)
    people = give_demo_passwords(home)
    store = open_store(make_settings(home))
    try:
        yield Demo(store, people)
    finally:
        store.close()


def build(browser: Browser, packet: str, **fields: str) -> TestResponse:
    token = browser.csrf_token("/packets")
    return browser.client.post(
        "/packets/build", data={"packet": packet, **fields, "csrf_token": token}
    )


def downloaded(browser: Browser, packet: str, **fields: str) -> TestResponse:
    """Ask for the packet on the page, look at its build's page until it is built, and
    download it."""
    asked = build(browser, packet, **fields)
    assert asked.status_code == 303, text(asked)
    assert re.fullmatch(r"/packets/builds/[0-9a-f-]{36}", asked.headers["Location"])
    page = until_built(browser, asked.headers["Location"])
    assert "Your packet is built" in text(page), text(page)
    assert "Download the packet" in text(page)
    return browser.get(f"{asked.headers['Location']}/packet.zip")


def until_built(browser: Browser, location: str, seconds: float = 180) -> TestResponse:
    """The build's page, looked at again (as its link does) until it is no longer building."""
    deadline = time.monotonic() + seconds
    while True:
        page = browser.get(location)
        assert page.status_code == 200, text(page)
        if "Your packet is being built" not in text(page) or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def upload(browser: Browser, data: bytes | None, **fields: str) -> TestResponse:
    token = browser.csrf_token("/packets")
    sent: dict[str, Any] = {**fields, "csrf_token": token}
    if data is not None:
        sent["packet_file"] = (io.BytesIO(data), "packet.zip")
    return browser.client.post("/packets", data=sent, content_type="multipart/form-data")


def error_summary(page: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert found is not None, page
    return found.group(0)


def findings(page: str) -> list[list[str]]:
    """The findings table: file, where, kind, reason, as the page shows them."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body is not None, page
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


# -- the page --------------------------------------------------------------------------------------


def test_the_data_manager_is_offered_the_study_packet_and_the_investigator_the_sites_copy(
    demo: Demo,
) -> None:
    manager = text(demo.browser(DATA_MANAGER).get("/packets"))
    investigator = text(demo.browser(INVESTIGATOR).get("/packets"))
    monitor = text(demo.browser(MONITOR).get("/packets"))

    assert 'value="study"' in manager and f'value="{SITE}"' not in manager
    assert f'value="{SITE}"' in investigator and 'value="study"' not in investigator
    assert 'action="/packets/build"' not in monitor
    for page in (manager, investigator, monitor):
        assert 'action="/packets#check"' in page and 'name="packet_file"' in page


def test_a_stranger_is_sent_to_sign_in(demo: Demo) -> None:
    stranger = Browser(demo.store)

    assert stranger.get("/packets").headers["Location"] == "/login?next=/packets"
    posted = stranger.client.post("/packets/build", data={"packet": "study"})
    assert posted.status_code in (302, 400)  # no CSRF token of a session: nothing built


# -- building --------------------------------------------------------------------------------------


def test_the_data_manager_downloads_the_study_packet_recorded_as_the_apis_build_is(
    demo: Demo,
) -> None:
    before = len(demo.copies(DATA_MANAGER))

    data = demo.packet()

    assert demo.built is not None
    assert demo.built.mimetype == "application/zip"
    assert demo.built.headers["Content-Disposition"] == (
        'attachment; filename="sealtrail-packet.zip"'
    )
    report = demo.report()
    assert report.ok, report.findings
    assert (report.study, report.site) == (STUDY, None)
    copies = demo.copies(DATA_MANAGER)[before:]
    assert [(c.what, c.scope.study, c.scope.site, c.channel) for c in copies] == [
        (PACKET, STUDY, None, "web")
    ]
    assert copies[0].sha256 == hashlib.sha256(data).hexdigest()


def test_the_investigator_downloads_the_sites_own_copy(demo: Demo) -> None:
    before = len(demo.copies(INVESTIGATOR))

    answer = downloaded(demo.browser(INVESTIGATOR), SITE)

    assert answer.status_code == 200, text(answer)
    assert f'filename="sealtrail-packet-{SITE}.zip"' in answer.headers["Content-Disposition"]
    report = verify_packet(answer.get_data(), redraw_documents=False)
    assert report.ok, report.findings
    assert report.site == SITE
    [copy] = demo.copies(INVESTIGATOR)[before:]
    assert (copy.what, copy.scope.site, copy.channel) == (PACKET, SITE, "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()


REFUSED_BUILDS = [
    (MONITOR, "study", "a monitor does not build reports and packets"),
    (INVESTIGATOR, "study", "an investigator does not build reports and packets"),
    (DATA_MANAGER, SITE, "a sponsor_data_manager does not build the site's own copy of its data"),
    (INVESTIGATOR, "SP", "demo.investigator does not act for site 'SP'"),
]


@pytest.mark.parametrize(("role", "packet", "reason"), REFUSED_BUILDS)
def test_a_packet_the_role_may_not_build_is_refused_403_and_changes_nothing(
    demo: Demo, role: str, packet: str, reason: str
) -> None:
    browser = demo.browser(role)
    copies, head = demo.copies(role), demo.store.app.checkpoints.head()

    answer = build(browser, packet)

    assert answer.status_code == 403
    assert answer.mimetype == "text/html"
    assert f"<li>{escape(reason)}</li>" in error_summary(text(answer))
    assert demo.copies(role) == copies
    assert demo.store.app.checkpoints.head() == head


@pytest.mark.parametrize("packet", ["", "RP\x00", "../RP"])
def test_a_build_without_a_packet_chosen_is_the_page_again_400(demo: Demo, packet: str) -> None:
    browser = demo.browser(DATA_MANAGER)
    copies = demo.copies(DATA_MANAGER)

    answer = build(browser, packet)

    assert answer.status_code == 400
    assert 'href="#packet-0">Choose which packet to build' in error_summary(text(answer))
    assert demo.copies(DATA_MANAGER) == copies


def test_a_build_without_the_forms_csrf_token_is_refused(demo: Demo) -> None:
    browser = demo.browser(DATA_MANAGER)
    copies = demo.copies(DATA_MANAGER)

    answer = browser.client.post("/packets/build", data={"packet": "study"})

    assert answer.status_code == 400
    assert "The form was not sent from a page of this site" in text(answer)
    assert demo.copies(DATA_MANAGER) == copies


def a_data_manager(demo: Demo, user_id: str) -> Browser:
    """A sponsor data manager of their own (their one build under way is theirs alone)."""
    person = make_person(demo.store, user_id, role=Role.SPONSOR_DATA_MANAGER)
    browser = Browser(demo.store)
    assert browser.sign_in(person.user_id, person.password).status_code == 302
    return browser


def a_build_put_in_place(demo: Demo, requester: str, owner: str, heartbeat_at: datetime) -> str:
    """The page of a build of the study's packet with its PDFs, under way, its row put in place
    as ``PacketBuilds.ask`` records it but with no thread building it: these tests are about
    the build's page, and the real build (the page's ask, its thread, its end) is
    :func:`downloaded`'s. A real build with its PDFs took ~15 s of CPU here, to be waited for."""
    build_id = str(uuid.uuid4())
    with demo.store.engine.begin() as connection:
        connection.execute(
            packet_builds.insert().values(
                id=build_id,
                requester=requester,
                study=STUDY,
                site=None,
                documents=True,
                state=BUILDING,
                requested_at=datetime.now(UTC),
                owner=owner,
                heartbeat_at=heartbeat_at,
                progress="asked",
            )
        )
    return f"/packets/builds/{build_id}"


THIS_PROCESS = f"{socket.gethostname()}:{os.getpid()}"
"""A build's owner, as a worker's thread building it writes itself: alive, so still building."""


def test_the_builds_page_says_it_is_building_with_a_link_and_no_script_and_is_the_askers_only(
    demo: Demo,
) -> None:
    browser = a_data_manager(demo, "dm.page")
    location = a_build_put_in_place(demo, "dm.page", THIS_PROCESS, datetime.now(UTC))
    building = browser.get(location)
    too_soon = browser.get(f"{location}/packet.zip")
    second = build(browser, "study")
    someone_else = a_data_manager(demo, "dm.other").get(location)
    unknown = browser.get("/packets/builds/6f1d2c3b-0000-4000-8000-000000000000")
    not_an_id = browser.get("/packets/builds/..%2Fkeys")
    # Then its thread ends, as PacketBuilds._run ends one: the zip kept, the row ready.
    data = demo.packet()
    builds = PacketBuilds(demo.store)
    builds.folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    builds.path_of(location.rpartition("/")[2]).write_bytes(data)
    with demo.store.engine.begin() as connection:
        connection.execute(
            update(packet_builds)
            .where(packet_builds.c.id == location.rpartition("/")[2])
            .values(
                state=READY,
                finished_at=datetime.now(UTC),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    built = browser.get(location)

    page = text(building)
    assert building.status_code == 200
    assert "Your packet is being built" in page
    assert f'<a class="button" href="{location}">Look again</a>' in page
    assert "<script" not in page.split("</head>")[1]  # the pages' CSP: no inline script
    assert 'http-equiv="refresh"' not in page
    assert too_soon.status_code == 409
    assert "still being built" in text(too_soon)
    assert second.status_code == 409
    assert "a packet build of yours is under way" in error_summary(text(second))
    assert someone_else.status_code == 403
    assert "Your packet" not in text(someone_else)
    assert (unknown.status_code, not_an_id.status_code) == (404, 404)
    assert "Download the packet" in text(built)
    assert demo.store.disclosures.of("dm.page") == []  # looked at, never downloaded
    assert demo.store.disclosures.of("dm.other") == []


def test_a_build_interrupted_says_so_on_its_page_and_hands_out_nothing(demo: Demo) -> None:
    browser = a_data_manager(demo, "dm.cut")
    # Its process fell silent: another host's, its last beat older than a stopped one's.
    location = a_build_put_in_place(
        demo,
        "dm.cut",
        owner="another-host:4242",
        heartbeat_at=datetime.now(UTC) - timedelta(seconds=STALE_SECONDS + 1),
    )

    page = browser.get(location)
    download = browser.get(f"{location}/packet.zip")

    assert page.status_code == 200
    assert "The packet was not built" in text(page)
    assert "The server process building it stopped before it ended" in text(page)
    assert 'href="/packets#build">Ask for a packet again' in text(page)
    assert download.status_code == 409
    assert "(interrupted)" in text(download)
    assert demo.store.disclosures.of("dm.cut") == []


# -- verifying -------------------------------------------------------------------------------------


def test_the_packet_uploaded_is_verified_and_nothing_is_recorded(demo: Demo) -> None:
    data = demo.packet()
    monitor = demo.browser(MONITOR)

    answer = upload(monitor, data)

    page = text(answer)
    assert answer.status_code == 200, page
    assert "Verified" in page and "Not verified" not in page
    report = demo.report()
    assert f"<dd>{report.events}</dd>" in page and f"<dd>{report.tree_size}</dd>" in page
    assert "<tbody>" not in page
    assert demo.copies(MONITOR) == []


def test_a_packet_with_a_byte_changed_is_not_verified_and_the_finding_names_the_file(
    demo: Demo,
) -> None:
    forged = one_byte_changed(demo.packet(), TAMPERED)
    expected = verify_packet(forged, redraw_documents=False).findings

    answer = upload(demo.browser(MONITOR), forged)

    page = text(answer)
    assert answer.status_code == 200
    assert "Not verified" in page
    assert f"{len(expected)} findings" in page
    rows = findings(page)
    assert [kind for _, _, kind, _ in rows] == ["file-altered", "derived-mismatch"]
    assert rows == [
        [TAMPERED, "", finding.kind, str(escape(finding.detail))] for finding in expected
    ]


def test_the_server_key_given_must_be_the_packets(demo: Demo) -> None:
    data = demo.packet()
    key = demo.report().server_key_id
    assert key is not None

    trusted = upload(demo.browser(MONITOR), data, server_key=key)
    other = upload(demo.browser(MONITOR), data, server_key="ed25519:" + "0" * 32)

    assert trusted.status_code == 200 and "Not verified" not in text(trusted)
    assert other.status_code == 200 and "Not verified" in text(other)
    assert [row[2] for row in findings(text(other))] == ["server-key-untrusted"]


NOT_A_PACKET = [
    ("not a zip", b"%PDF-1.7 not a zip at all", "not a zip file"),
    ("a zip bomb", zip_of({"datasets/LB.csv": bytes(16 * 1024**2)}), "zip bomb"),
    ("a path outside", zip_of({"../evil.txt": b"x"}), "leaves the packet&#39;s folder"),
]


@pytest.mark.parametrize(("name", "data", "reason"), NOT_A_PACKET, ids=[n[0] for n in NOT_A_PACKET])
def test_what_is_no_packets_zip_is_the_page_again_400_with_the_reason(
    demo: Demo, name: str, data: bytes, reason: str
) -> None:
    answer = upload(demo.browser(MONITOR), data)

    page = text(answer)
    assert answer.status_code == 400
    summary = error_summary(page)
    assert 'href="#packet_file"' in summary and "This is not a packet&#39;s zip" in summary
    assert reason in summary
    assert 'id="result"' not in page


@pytest.mark.parametrize("data", [None, b""], ids=["no file", "an empty file"])
def test_no_file_is_the_page_again_400(demo: Demo, data: bytes | None) -> None:
    answer = upload(demo.browser(MONITOR), data)

    assert answer.status_code == 400
    assert 'href="#packet_file">Choose a packet&#39;s zip file' in error_summary(text(answer))


@pytest.mark.parametrize(
    "size",
    [MAX_PACKET + 1, MAX_PACKET + FORM_ALLOWANCE + 1],
    ids=["a file over the limit", "a form over the limit, refused before it is read"],
)
def test_a_file_over_the_limit_is_refused_413(demo: Demo, size: int) -> None:
    answer = upload(demo.browser(MONITOR), bytes(size))

    page = text(answer)
    assert answer.status_code == 413
    assert f"larger than {MAX_PACKET >> 20} MiB" in error_summary(page)
    assert 'name="csrf_token"' in page  # the form, again, to choose another file
