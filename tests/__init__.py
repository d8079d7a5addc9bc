"""Scalper's test suite, laid out as the tree it tests.

tests/<package>/.../test_<module>.py   the tests of <package>/src/<package>/.../<module>.py
                                       (tests/ctl: scalperctl, one file per scalperctl module)
tests/platform/                        `make run` as an operator starts it (deploy/local)
tests/system/                          the platform under a real systemd in an nspawn container
tests/deploy/                          deploy/ansible against a throwaway Debian 12 host (`pytest -m deploy`)
tests/test_*.py                        the whole repository (import contracts, docs) and the files
                                       under deploy/ (prometheus, systemd units), and conftest's rules
Every test has exactly one level marker: unit, service, platform or system (`pytest -m unit`,
`make test-unit`); tests/conftest.py refuses a test without one, and with CI=true fails a run in
which anything was skipped.
"""
