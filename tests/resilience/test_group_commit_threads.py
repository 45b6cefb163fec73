"""The concurrency tests of :mod:`tests.resilience.test_concurrency`, against workers whose
threads' writes share commits: gunicorn's gthread worker, two processes of four threads each
(``sealtrail serve --threads 4``), so that writes race both within a process (in one group,
:mod:`infrastructure.store.write_groups`) and between processes (for the store's write lock).
Each version is still won by exactly one writer, a retried request is recorded once, and the
leaves stay one per event in log order, verified.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resilience.conftest import Live, served
from tests.resilience.test_concurrency import (
    test_each_version_is_won_by_exactly_one_writer_and_the_others_get_409,
    test_the_same_request_sent_at_once_by_many_retries_is_recorded_once,
    test_without_if_match_every_acknowledged_write_gets_a_version_of_its_own,
    test_writers_in_several_processes_keep_one_leaf_per_event_in_log_order,
)

THREADS = 4

__all__ = [
    "test_each_version_is_won_by_exactly_one_writer_and_the_others_get_409",
    "test_the_same_request_sent_at_once_by_many_retries_is_recorded_once",
    "test_without_if_match_every_acknowledged_write_gets_a_version_of_its_own",
    "test_writers_in_several_processes_keep_one_leaf_per_event_in_log_order",
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """gunicorn with two gthread workers of four threads each over a fresh store."""
    yield from served(request, tmp_path_factory, threads=THREADS)
