"""dashboard.routes.login: the login form sets a strict HttpOnly session cookie, the pages carry the
security headers, and a form posted without its CSRF token is refused."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import ADMIN, PASSWORD

pytestmark = pytest.mark.service


def test_login_form_sets_a_strict_httponly_cookie_and_security_headers(dashboard):
    c, r = dashboard.login()
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "scalper_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=" in cookie and "Secure" not in cookie  # plain HTTP here; Secure when HTTPS
    page = c.get("/")
    assert page.status_code == 200 and ADMIN in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # no inline scripts anywhere the CSP would have to allow
    # a login form posted without its CSRF token is refused
    assert (
        dashboard.client().post("/login", data={"username": ADMIN, "password": PASSWORD}).status_code == 403
    )
