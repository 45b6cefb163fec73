"""Many clients writing at once, through gunicorn's worker processes, on both databases.

Each worker is a process with its own chain-head cache and its own connections, so these are
the tests that would catch two processes appending to the Merkle log or to one subject's chain
at once: each version is won by exactly one writer, the others get 409, the chain never forks,
a retried request never records twice, and the leaves stay one per event in log order.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import requests

from tests.conftest import consent, screening
from tests.resilience.conftest import Live, fresh_subject
from tests.resilience.harness import HttpSite, half_written_problems, receipt_problems

CLIENTS = 6
PROBLEM = "application/problem+json"
T = TypeVar("T")


def all_at_once(sites: list[HttpSite], send: Callable[[HttpSite], T]) -> list[T]:
    """Every site sends at the same instant (behind a barrier), each from a thread of its own."""
    for site in sites:
        site.headers()  # fetch the tokens first, so that the race is between the writes
    barrier = threading.Barrier(len(sites))

    def go(site: HttpSite) -> T:
        barrier.wait()
        return send(site)

    with ThreadPoolExecutor(len(sites)) as pool:
        return list(pool.map(go, sites))


def consent_at(site: HttpSite, *, subject: str, version: int) -> requests.Response:
    """Re-consent, naming the version the writer saw."""
    return site.record(subject, "ConsentObtained", consent(), if_match=version)


def screened(live: Live) -> tuple[str, dict[str, Any]]:
    """A new subject, screened; its code and the screening's receipt."""
    subject = fresh_subject()
    response = live.site().record(subject, "Screened", screening())
    assert response.status_code == 201, response.text
    return subject, response.json()


def history(live: Live, subject: str) -> list[dict[str, Any]]:
    response = live.site().get(f"/v1/studies/NCT01297972/subjects/{subject}/history")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def assert_unforked(receipts: list[dict[str, Any]]) -> None:
    """Versions 1, 2, 3... each committing to the hash of the one before: one chain."""
    receipts = sorted(receipts, key=lambda receipt: receipt["version"])
    assert [receipt["version"] for receipt in receipts] == list(range(1, len(receipts) + 1))
    for before, after in itertools.pairwise(receipts):
        assert after["previous_hash"] == before["event_hash"]


def assert_store_whole(live: Live, receipts: list[dict[str, Any]]) -> None:
    """Every receipt names its stored event and leaf; one leaf per event; verify is clean."""
    assert receipt_problems(live.store, receipts) == []
    assert half_written_problems(live.store) == []
    assert live.store.verifier(workers=1).verify().findings == []


def test_each_version_is_won_by_exactly_one_writer_and_the_others_get_409(live: Live) -> None:
    subject, screening_receipt = screened(live)
    sites = [live.site(n % 2) for n in range(CLIENTS)]
    won = [screening_receipt]

    for version in range(1, 7):
        answers = all_at_once(sites, partial(consent_at, subject=subject, version=version))

        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] + [409] * (CLIENTS - 1), [answer.text for answer in answers]
        losers = [answer for answer in answers if answer.status_code == 409]
        assert all(answer.headers["Content-Type"] == PROBLEM for answer in losers)
        (winner,) = [answer.json() for answer in answers if answer.status_code == 201]
        assert winner["version"] == version + 1
        won.append(winner)

    assert_unforked(won)
    assert [entry["version"] for entry in history(live, subject)] == list(range(1, 8))
    assert_store_whole(live, won)


def test_without_if_match_every_acknowledged_write_gets_a_version_of_its_own(live: Live) -> None:
    subject, screening_receipt = screened(live)
    sites = [live.site(n % 2) for n in range(CLIENTS)]
    acknowledged = [screening_receipt]

    for _round in range(4):
        answers = all_at_once(
            sites, lambda site: site.record(subject, "ConsentObtained", consent())
        )
        assert {answer.status_code for answer in answers} <= {201, 409}
        acknowledged += [answer.json() for answer in answers if answer.status_code == 201]

    versions = [receipt["version"] for receipt in acknowledged]
    assert len(versions) == len(set(versions)), "two writers were given one version"
    assert_unforked(acknowledged)
    assert len(history(live, subject)) == len(acknowledged)
    assert_store_whole(live, acknowledged)


def test_the_same_request_sent_at_once_by_many_retries_is_recorded_once(live: Live) -> None:
    subject, screening_receipt = screened(live)
    author = live.authors[0]
    sites = [live.site(0) for _ in range(CLIENTS)]
    recorded = [screening_receipt]

    for attempt in range(4):
        signed = author.signed(subject, "ConsentObtained", consent(), version=attempt + 2)
        key = f"retry-{subject}-{attempt}"
        answers = all_at_once(sites, partial(HttpSite.submit, signed=signed, idempotency_key=key))

        assert [answer.status_code for answer in answers] == [201] * CLIENTS, [
            answer.text for answer in answers
        ]
        receipts = [answer.json() for answer in answers]
        assert all(receipt == receipts[0] for receipt in receipts)
        assert receipts[0]["version"] == attempt + 2
        recorded.append(receipts[0])

    assert len(history(live, subject)) == 5
    assert_unforked(recorded)
    assert_store_whole(live, recorded)


def test_writers_in_several_processes_keep_one_leaf_per_event_in_log_order(live: Live) -> None:
    sites = [live.site(n % 2) for n in range(CLIENTS)]

    def write(site: HttpSite) -> list[dict[str, Any]]:
        receipts = []
        for _subject in range(6):
            subject = fresh_subject()
            for kind, data in (("Screened", screening()), ("ConsentObtained", consent())):
                response = site.record(subject, kind, data)
                assert response.status_code == 201, response.text
                receipts.append(response.json())
        return receipts

    receipts = [receipt for written in all_at_once(sites, write) for receipt in written]

    assert len({receipt["leaf_index"] for receipt in receipts}) == len(receipts) == CLIENTS * 12
    in_log_order = sorted(receipts, key=lambda receipt: receipt["position"])
    leaves = [receipt["leaf_index"] for receipt in in_log_order]
    assert leaves == sorted(leaves), "the Merkle leaves are not in log order"
    assert_store_whole(live, receipts)
