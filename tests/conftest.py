"""Suite-wide rules and fixtures: one level marker per test, and a real redis-server on a free port
(fakeredis only for pure unit tests)."""

from __future__ import annotations

import pytest

from tests.support import RedisServer

# The four levels registered in pyproject.toml; `pytest -m <level>` runs one of them.
LEVELS = ("unit", "service", "platform", "system")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: a test without a level fails every run, not only a full one
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse to run when a test carries no level marker or more than one, naming each such test."""
    wrong = []
    for item in items:
        levels = sorted({m.name for m in item.iter_markers() if m.name in LEVELS})
        if len(levels) != 1:
            wrong.append(f"  {item.nodeid}: {', '.join(levels) or 'no level marker'}")
    if wrong:
        raise pytest.UsageError(
            f"every test needs exactly one level marker ({', '.join(LEVELS)}), "
            "e.g. `pytestmark = pytest.mark.unit` at the top of its module:\n" + "\n".join(wrong))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole run; tests keep apart by flushing (see `redis_url`)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The shared server's URL, emptied before the test."""
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own (AOF on), for tests that stop or restart Redis."""
    server = RedisServer(tmp_path / "redis", aof=True).start()
    yield server
    server.stop()
