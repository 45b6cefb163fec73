"""pytest plugin: ``@pytest.mark.requirement("<id>", ...)`` names the requirements of
docs/validation/requirements.toml a test proves.

At collection, a marker naming an id the file does not declare stops the run, in one line;
each marked test carries a ``requirement`` property per id into pytest's JUnit XML, so that a
run's file says which requirement each test proved (``sealtrail validation report --junit``).
That every requirement has a test is tests/unit/test_traceability.py's check, which reads the
markers from the source: it holds for the whole suite even when a run collects part of it.
"""

from __future__ import annotations

import pytest

from infrastructure.validation.markers import MARKER
from infrastructure.validation.requirements import load_requirements


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker (also in pyproject.toml), for runs outside the checkout's settings."""
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): proves the requirements of docs/validation it names"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse an unknown id; give each marked test its ``requirement`` properties."""
    marked = [(item, mark) for item in items for mark in item.iter_markers(MARKER)]
    if not marked:
        return
    known = load_requirements().ids
    for item, mark in marked:
        if not mark.args or mark.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: a requirement marker names ids only")
        for requirement_id in mark.args:
            if requirement_id not in known:
                raise pytest.UsageError(
                    f"{item.nodeid} is marked as proving requirement {requirement_id!r}, "
                    "which docs/validation/requirements.toml does not declare"
                )
            if (MARKER, requirement_id) not in item.user_properties:
                item.user_properties.append((MARKER, requirement_id))
