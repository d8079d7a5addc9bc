"""The README and .env.example stay true: every setting is documented in both."""

import re

import pytest

from common.config import Settings
from tests.support import ROOT

pytestmark = pytest.mark.unit


def _keys() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_is_in_env_example():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert _keys() - documented == set()
    assert documented - _keys() == set()  # and nothing there that a service would reject


def test_every_setting_is_in_the_readme_configuration_tables():
    readme = (ROOT / "README.md").read_text()
    mentioned = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    assert _keys() - mentioned == set()
