"""Signing against Bybit's documented strings-to-sign, an independent HMAC, and pybit's signer."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from common.bybit.signing import matches, rest_payload, rest_signature, ws_auth_signature
from pybit._http_manager import generate_signature

pytestmark = pytest.mark.unit

SECRET = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def test_get_string_to_sign_matches_bybit_docs():
    # Bybit v5 guide, "GET": timestamp + api key + recv window + query string, no separators.
    payload = rest_payload(timestamp=1658384314791, api_key="XXXXXXXXXX", recv_window=5000,
                           params="category=option&symbol=BTC-29JUL22-25000-C")
    assert payload == b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"


def test_post_string_to_sign_is_the_raw_body_bytes():
    # Bybit v5 guide, "POST": the JSON body exactly as sent (here with the docs' spacing).
    body = b'{"category": "option"}'
    payload = rest_payload(timestamp=1658385579423, api_key="XXXXXXXXXX", recv_window=5000, params=body)
    assert payload == b'1658385579423XXXXXXXXXX5000{"category": "option"}'


def test_signature_is_hex_hmac_sha256_and_matches_pybit():
    query = "category=linear&symbol=BTCUSDT"
    ours = rest_signature(secret=SECRET, timestamp=1658384314791, api_key="KEY", recv_window=5000,
                          params=query)
    independent = hmac.new(SECRET.encode(), f"1658384314791KEY5000{query}".encode(),
                           hashlib.sha256).hexdigest()
    assert ours == independent == generate_signature(False, SECRET, f"1658384314791KEY5000{query}")
    assert len(ours) == 64 and ours == ours.lower()


def test_ws_auth_signs_get_realtime_and_expires():
    sig = ws_auth_signature(secret=SECRET, expires_ms=1662350400000)
    assert sig == generate_signature(False, SECRET, "GET/realtime1662350400000")


def test_matches_is_exact():
    sig = rest_signature(secret=SECRET, timestamp=1, api_key="K", recv_window=5000, params="")
    assert matches(sig, sig.upper())  # hex case does not matter
    assert not matches(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
