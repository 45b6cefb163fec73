"""schemathesis against ``/openapi.json``, through the real server, on both databases.

Every operation the document lists gets a bounded number of generated requests, valid and
invalid by its schemas, sent with a coordinator's bearer token. No answer may be a 5xx, and
every answer must be one the document declares, with its media type and body schema.

The run is reproducible (a fixed seed) and bounded; ``SEALTRAIL_FUZZ_SEED`` and
``SEALTRAIL_FUZZ_EXAMPLES`` ask for another seed and more cases per operation, as a longer run
before a release does (issue 15, point 10 ran seed 15 with 120 cases, ten times the default)::

    SEALTRAIL_FUZZ_SEED=15 SEALTRAIL_FUZZ_EXAMPLES=120 pytest tests/resilience/test_fuzz.py

Not checked: that every request valid *by schema* is accepted (``positive_data_acceptance``):
a generated body is never signed by the coordinator's key, so the store rightly refuses it,
and that is what the domain tests are for.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.resilience.conftest import Live

pytestmark = pytest.mark.slow  # tens of seconds a run: started first (tests/conftest.py)

CASES_PER_OPERATION = int(os.environ.get("SEALTRAIL_FUZZ_EXAMPLES") or 12)
SEED = os.environ.get("SEALTRAIL_FUZZ_SEED")
"""None: hypothesis derandomised (the same cases every run); a number: that seed's cases."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="session")
def bearer(live: Live) -> dict[str, str]:
    """A coordinator's token, so that requests get past authentication to the validation."""
    site = live.site()
    headers = site.headers()
    site.close()
    return headers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(
    live: Live, bearer: dict[str, str], mode: GenerationMode
) -> None:
    # Operations are walked here rather than with schemathesis's pytest plugin, whose lazy
    # fixture loader reads a private attribute that pytest 9 no longer has.
    schema = schemathesis.openapi.from_url(f"{live.server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10, "the document lists fewer operations than the API has"

    exercised = 0
    sent: set[str] = set()
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            derandomize=SEED is None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exchange(case: schemathesis.Case[Any]) -> None:
            # Hypothesis draws the same request more than once (one in ten here: the operations
            # with few parameters have few requests to draw); sent again, it proves nothing new.
            request = request_of(case)
            if request in sent:
                return
            sent.add(request)
            case.call_and_validate(headers=bearer, checks=CHECKS)

        if SEED is not None:
            exchange = seed(int(SEED))(exchange)

        try:
            exchange()
        except Unsatisfiable:
            # An operation with no parameters and no body has nothing to get wrong.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        exercised += 1

    assert exercised >= 8, f"only {exercised} operations could be exercised"


def request_of(case: schemathesis.Case[Any]) -> str:
    """What the case would send, as one string: equal for requests equal byte for byte."""
    return json.dumps(
        [
            case.method,
            case.path,
            case.path_parameters,
            case.query,
            case.headers,
            case.cookies,
            case.media_type,
            repr(case.body),
        ],
        sort_keys=True,
        default=repr,
    )
