"""pytest plugin: the ``xdist_group`` of each test reaches xdist's controller under pytest 9.

``--dist loadgroup`` (``make test``) keeps the tests of one group on one worker: the modules that
share a fixture made once a module (tests/conftest.py) and the browser modules that share a
served store (tests/browser/conftest.py). A worker tells the controller a test's group in its id,
``<id>@<group>``: xdist (3.8) writes that id into ``item._nodeid``, which pytest 9 no longer
reads (a node's id is ``item._id`` there). So the controller saw no group at all and handed each
module's tests out one by one, and every module fixture, served store and Chromium was made
again on each worker its tests reached (found 2026-12-05: a module of 24 tests was set up on
all four workers).

Here, after xdist's own hook, each item is given the id xdist meant; and the run stops if a test
marked with a group still goes out without it, so that a new pytest or xdist cannot silently
undo the grouping again.

This is xdist's known defect, pytest-dev/pytest-xdist#1386 (open; no release fixes it: 3.8.0 is
the newest), and this plugin does what its proposed fix, pytest-dev/pytest-xdist#1388, does
inside xdist. Remove it once a release of xdist carries the fix.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


@pytest.hookimpl(trylast=True)  # after xdist's hook, which names the group in item._nodeid
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not (hasattr(config, "workerinput") and config.getvalue("loadgroup")):
        return
    for item in items:
        meant = getattr(item, "_nodeid", None)
        if isinstance(meant, str) and meant != item.nodeid:
            item._id = NodeId.parse(meant)  # type: ignore[attr-defined]
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"{item.nodeid}: its xdist_group would not reach xdist's controller "
                "(tests/xdist_groups.py): its module's tests would be spread over the workers"
            )
