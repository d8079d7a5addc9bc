"""Restart one service from the dashboard as an admin's browser does: the login form with its CSRF
field, then the services page's restart with the session's CSRF token.

Runs inside the nspawn container with the host's /usr/bin/python3 (stdlib only). A 409 (the dashboard
not yet seeing the service GREEN, e.g. just after its own restart) is retried for 20 s; it prints the
JSON answer and exits 0, or fails with the last refusal.
Usage: dashboard_restart.py BASE_URL USER PASSWORD SERVICE
"""

import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, user, password, service = sys.argv[1:5]
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def csrf(path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', browser.open(base + path, timeout=10).read().decode())[1]


form = {"username": user, "password": password, "csrf": csrf("/login")}
browser.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=10)  # 303 to the overview
request = urllib.request.Request(f"{base}/api/services/{service}/restart", data=b"", method="POST",
                                 headers={"X-CSRF-Token": csrf("/services"), "Accept": "application/json"})
deadline = time.monotonic() + 20
while True:
    try:
        print(browser.open(request, timeout=10).read().decode())
        break
    except urllib.error.HTTPError as e:
        if e.code != 409 or time.monotonic() > deadline:
            sys.exit(f"restart refused: {e.code} {e.read().decode()}")
        time.sleep(0.5)
