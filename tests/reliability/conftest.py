"""The reliability suite's fixtures: a PostgreSQL cluster of the module's own.

The rule that keeps the slow cases inside CI's time is in `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.pg import Cluster, own_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A cluster for this module alone: its tests stop and restart it."""
    with own_cluster() as own:
        yield own


@pytest.fixture
def own_database(cluster: Cluster) -> Iterator[str]:
    with cluster.database() as dsn:
        yield dsn
