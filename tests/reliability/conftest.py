"""The reliability suite's fixtures, and the rule that keeps it inside CI's time.

Slow cases carry `@pytest.mark.reliability`; the default run (`python -m pytest -q`,
what CI runs) keeps only those marked `reliability(sample=True)`, a fixed sample of
every kind of fault, and `pytest -m reliability` runs them all. Nothing is skipped:
the rest are deselected, and pytest says how many.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.pg import Cluster, own_cluster


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "reliability" in str(config.getoption("markexpr", "")):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        mark = item.get_closest_marker("reliability")
        (drop if mark is not None and not mark.kwargs.get("sample") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A cluster for this module alone: its tests stop and restart it."""
    with own_cluster() as own:
        yield own


@pytest.fixture
def own_database(cluster: Cluster) -> Iterator[str]:
    with cluster.database() as dsn:
        yield dsn
