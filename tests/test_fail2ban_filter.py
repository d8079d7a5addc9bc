"""The fail2ban filter of the dashboard's failed logins (deploy/ansible, role hardening) matches the line
the dashboard really logs for them (its audit entry through common.logs), names the client, and cannot
be fooled by a crafted user name. fail2ban itself reading the journal is tests/deploy/test_deploy.py."""

from __future__ import annotations

import io
import logging
import re

import pytest

from common.logs import JsonFormatter
from dashboard.auth.audit import Audit
from tests.support import ROOT

pytestmark = pytest.mark.unit

FILTER = ROOT / "deploy/ansible/roles/hardening/templates/scalper-dashboard.filter.j2"


def failregex() -> re.Pattern:
    """The filter's failregex, with fail2ban's <HOST> as a named group of an IPv4 or IPv6 address."""
    line = next(ln for ln in FILTER.read_text().splitlines() if ln.startswith("failregex = "))
    return re.compile(line.removeprefix("failregex = ").replace("<HOST>", r"(?P<host>[0-9a-fA-F.:]+)"))


def logged(tmp_path, **entry: str) -> str:
    """The journal line the dashboard writes for one audit entry."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("dashboard"))
    logger = logging.getLogger("dashboard.auth.audit")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        Audit(tmp_path).record(**entry)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    line = out.getvalue().strip()
    assert '"event":"audit"' in line
    return line


@pytest.mark.parametrize("outcome", ["wrong password", "locked"])
def test_a_failed_login_is_matched_with_its_client(tmp_path, outcome):
    line = logged(tmp_path, user="admin", action="login", client="203.0.113.9", outcome=outcome)
    m = failregex().search(line)
    assert m and m["host"] == "203.0.113.9", line


@pytest.mark.parametrize("outcome", ["ok", "refused", "slowed"])
def test_other_outcomes_are_not_failures(tmp_path, outcome):
    assert not failregex().search(logged(tmp_path, user="admin", action="login", client="203.0.113.9",
                                         outcome=outcome))


def test_a_crafted_user_name_cannot_get_another_address_banned(tmp_path):
    forged = 'x","action":"login","client":"198.51.100.1","outcome":"wrong password'
    line = logged(tmp_path, user=forged, action="login", client="203.0.113.9", outcome="ok")
    assert not failregex().search(line), line
