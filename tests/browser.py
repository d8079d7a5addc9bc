"""Headless Debian Chromium for the dashboard's page tests, started as our notes prescribe."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, kept by CI
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (apt-get install chromium)")


@contextmanager
def chromium() -> Iterator:
    """A Playwright browser on Debian's chromium, closed however the test ends."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
