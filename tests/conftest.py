"""Suite-wide rules and fixtures: one level marker per test, no skips in CI, and a real redis-server
on a free port (fakeredis only for pure unit tests)."""

from __future__ import annotations

import os

import pytest

from tests.support import RedisServer

pytest_plugins = ["pytester"]  # tests/test_conftest.py runs these rules on small suites of its own

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


def in_ci() -> bool:
    """CI=true (or 1), as CI systems and .ci/run set it."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


class SkipsFailInCI:
    """In CI every level must run: a skip there (no browser, no promtool, no nspawn, not root) is an
    install bug, so the run fails and names each skipped test with its reason."""

    def __init__(self) -> None:
        self.skipped: list[tuple[str, str]] = []

    def _note(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):  # an xfail is not a skip
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.skipped.append((report.nodeid, reason.removeprefix("Skipped: ")))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._note(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.skipped and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.skipped:
            terminalreporter.section("skipped in CI (CI=true): install what they need", red=True)
            for nodeid, reason in self.skipped:
                terminalreporter.line(f"SKIPPED {nodeid}: {reason}", red=True)


def pytest_configure(config: pytest.Config) -> None:
    if in_ci():
        config.pluginmanager.register(SkipsFailInCI(), "skips-fail-in-ci")


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
