"""What the domain tests of a subject's records stand on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.subjects import signed_by_someone


@pytest.fixture
def someone_signs() -> Iterator[None]:
    """Every command of the test runs under an author's signature the domain does not check
    (the store does: tests/integration)."""
    yield from signed_by_someone()
