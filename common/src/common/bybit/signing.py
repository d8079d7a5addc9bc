"""Bybit v5 HMAC-SHA256 signatures for REST requests and the private WebSocket auth."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, payload: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of `payload` under `secret`."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def rest_payload(*, timestamp: int | str, api_key: str, recv_window: int | str, params: bytes | str) -> bytes:
    """What a REST request signs: timestamp + key + recv window + (query string | raw body)."""
    tail = params if isinstance(params, bytes) else params.encode()
    return f"{timestamp}{api_key}{recv_window}".encode() + tail


def rest_signature(*, secret: str, timestamp: int | str, api_key: str, recv_window: int | str,
                   params: bytes | str) -> str:
    return sign(secret, rest_payload(timestamp=timestamp, api_key=api_key, recv_window=recv_window,
                                     params=params))


def ws_auth_signature(*, secret: str, expires_ms: int) -> str:
    """The private stream's `auth` signs "GET/realtime" + expires (ms)."""
    return sign(secret, f"GET/realtime{expires_ms}".encode())


def matches(expected: str, given: str) -> bool:
    """Constant-time comparison, so a forged signature learns nothing from timing."""
    return hmac.compare_digest(expected.encode(), given.lower().encode())
