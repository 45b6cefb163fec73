"""``/study``: where the study stands, with the figures the API's dashboard gives for the same
store, only the sites the person reads, and the copy recorded in the disclosure log."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store, open_store
from tests.access.conftest import make_person
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, Person, make_settings
from tests.e2e.conftest import Site
from tests.projections.conftest import Followed, followed  # noqa: F401 - the store of RP-101
from tests.web.conftest import Browser, text


def figure(page: str, name: str) -> int:
    found = re.search(rf'id="figure-{re.escape(name)}">(\d+)<', page)
    assert found is not None, f"no figure {name}"
    return int(found.group(1))


def study_page(store: Store, person: Person) -> str:
    browser = Browser(store)
    browser.sign_in(person.user_id, person.password)
    answer = browser.get("/study")
    assert answer.status_code == 200, text(answer)
    return text(answer)


def api_dashboard(store: Store, person: Person) -> dict[str, Any]:
    site = Site(store)
    answer = site.client.get("/v1/study/dashboard", headers=site.auth(person))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.get_json())


def assert_same_figures(page: str, dashboard: dict[str, Any]) -> None:
    assert figure(page, "subjects") == dashboard["subjects"]
    for status, count in dashboard["by_status"].items():
        assert figure(page, f"status-{status}") == count, status
    assert figure(page, "infusions-given") == dashboard["infusions"]["given"]
    assert figure(page, "subjects-infused") == dashboard["infusions"]["subjects_infused"]
    assert figure(page, "infusion-reactions") == dashboard["infusions"]["infusion_reactions"]
    assert figure(page, "adverse-events") == dashboard["adverse_events"]["reported"]
    assert figure(page, "deaths") == len(dashboard["deaths"])


# -- RP-101's course, an overdue SAE notification among it (tests/projections/conftest.py) ------


def test_an_auditor_sees_the_apis_figures_and_the_overdue_clock_with_its_days(
    followed: Followed,  # noqa: F811
) -> None:
    auditor = followed.people["auditor1"]

    page = study_page(followed.store, auditor)
    dashboard = api_dashboard(followed.store, auditor)

    assert_same_figures(page, dashboard)
    (overdue,) = dashboard["overdue_notifications"]
    clock = re.search(r'<table class="table" id="clocks">.*?</table>', page, re.DOTALL)
    assert clock is not None
    assert overdue["term"] in clock.group(0) and overdue["due_on"] in clock.group(0)
    assert f"overdue by {overdue['days_late']} days" in clock.group(0)
    assert 'id="site-RP"' in page and 'id="site-SP"' not in page  # no subject at SP yet


def test_a_person_of_a_site_sees_their_site_alone(followed: Followed) -> None:  # noqa: F811
    own = study_page(followed.store, followed.people["coord1"])
    elsewhere = study_page(followed.store, followed.people["coord9"])

    assert 'id="site-RP"' in own and 'id="site-SP"' not in own
    assert "RP-101" in own  # its overdue clock
    assert figure(own, "subjects") == 1
    assert "RP-101" not in elsewhere and 'id="site-RP"' not in elsewhere
    assert 'id="site-SP"' in elsewhere and 'id="clocks-none"' in elsewhere
    assert figure(elsewhere, "subjects") == 0
    assert figure(elsewhere, "adverse-events") == 0


def test_the_page_is_recorded_as_a_copy_of_the_persons_sites_before_it_is_sent(
    followed: Followed,  # noqa: F811
) -> None:
    coordinator = followed.people["coord1"]
    before = len(followed.store.disclosures.of("coord1"))

    page = study_page(followed.store, coordinator)

    copy = followed.store.disclosures.of("coord1")[before]
    assert (copy.what, str(copy.scope), copy.channel) == ("dashboard", f"{STUDY} site RP", "web")
    assert copy.sha256 == hashlib.sha256(page.encode()).hexdigest()


def test_a_role_that_reads_no_clinical_data_is_refused_the_page(followed: Followed) -> None:  # noqa: F811
    administrator = make_person(followed.store, "admin-study", role=Role.ADMINISTRATOR)
    browser = Browser(followed.store)
    browser.sign_in(administrator.user_id, administrator.password)

    refused = browser.get("/study")

    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "an administrator does not read clinical data" in text(refused)
    assert followed.store.disclosures.of("admin-study") == []


# -- the demonstration cohort ---------------------------------------------------------------------


@pytest.fixture
def demo(demo_home: Path) -> Any:
    store = open_store(make_settings(demo_home))
    try:
        yield store
    finally:
        store.close()


def test_on_the_demonstration_the_page_agrees_with_the_apis_dashboard_coverage_and_verify(
    demo: Store, demo_home: Path
) -> None:
    manager = make_person(demo, "dm-study", role=Role.SPONSOR_DATA_MANAGER)
    site = Site(demo)
    coverage = site.client.get(
        "/v1/study/source-verification?site=RP", headers=site.auth(manager)
    ).get_json()

    before = study_page(demo, manager)
    verified = sealtrail("verify", home=demo_home)
    after = study_page(demo, manager)

    assert_same_figures(after, api_dashboard(demo, manager))
    row = re.search(r'<tr id="site-RP">.*?</tr>', after, re.DOTALL)
    assert row is not None
    assert f"{coverage['verified']} / {coverage['total']}" in row.group(0)
    assert "<td>0 / 0 / 9</td>" in row.group(0)  # the demonstration locks its nine subjects
    assert "no verification is recorded" in before
    checked = re.search(r"OK: (\d+) events checked", verified.stdout)
    assert checked is not None
    assert f"{checked.group(1)} events checked" in after and "no finding" in after
