"""The suite's own rules (tests/conftest.py), run on small suites of their own with pytester."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

RULES = "from tests.conftest import pytest_collection_modifyitems, pytest_configure\n"
MARKERS = "[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n    unit\n    service\n    platform\n    system\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty suite under the rules of ours, with the four levels registered."""
    pytester.makeconftest(RULES)
    pytester.makeini(MARKERS)
    return pytester


def test_a_test_without_exactly_one_level_stops_the_run_naming_it(suite):
    suite.makepyfile(test_levels="""
        import pytest

        def test_forgotten():
            pass

        @pytest.mark.unit
        @pytest.mark.service
        def test_two_levels():
            pass

        @pytest.mark.unit
        def test_one_level():
            pass
    """)
    result = suite.runpytest("-m", "unit")  # checked before -m deselects: forgotten tests fail every run
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_levels.py::test_forgotten: no level marker",
                                 "*test_levels.py::test_two_levels: service, unit"])


SKIPPING = """
    import pytest

    pytestmark = pytest.mark.unit

    def test_runs():
        pass

    @pytest.mark.skipif(True, reason="needs promtool")
    def test_skipped_by_mark():
        pass

    def test_skipped_inside():
        pytest.skip("not root")
"""


def test_in_ci_a_skip_fails_the_run_and_names_each_skipped_test(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    suite.makepyfile(test_skips=SKIPPING,
                     test_module_skip="import pytest\n\npytest.skip('no chromium', allow_module_level=True)\n")
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*skipped in CI (CI=true)*",
                                 "SKIPPED test_module_skip.py: no chromium",
                                 "SKIPPED test_skips.py::test_skipped_by_mark: needs promtool",
                                 "SKIPPED test_skips.py::test_skipped_inside: not root"])


def test_outside_ci_a_skip_is_only_reported(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    suite.makepyfile(test_skips=SKIPPING)
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=2)
    assert "skipped in CI" not in result.stdout.str()
