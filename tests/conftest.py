"""Suite-wide fixtures: a real redis-server on a free port (fakeredis only for pure unit tests)."""

from __future__ import annotations

import pytest

from tests.support import RedisServer


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
