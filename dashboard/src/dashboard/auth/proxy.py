"""Behind a TLS reverse proxy: only the proxies named in WEB_TRUSTED_PROXIES are believed.

A request from a trusted proxy gets the client address its X-Forwarded-For names (the rightmost
address that is not itself a trusted proxy, so a client cannot prepend a made-up one) and the scheme
its X-Forwarded-Proto names, written into the ASGI scope so every later reader (the allow-list, the
login throttle, the audit, sessions, Secure cookies) sees the original client. Any request that went
through a proxy, trusted or not, is marked `proxied` and is never treated as loopback.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

FORWARDED_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-forwarded-proto", b"x-real-ip")


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or CIDRs as networks (WEB_TRUSTED_PROXIES, WEB_ALLOW_NETWORKS)."""
    return [ipaddress.ip_network(n.strip(), strict=False) for n in text.split(",") if n.strip()]


def in_networks(host: str | None, networks: list) -> bool:
    """`host` is an address inside one of `networks`."""
    try:
        addr = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(addr in n for n in networks)


def is_proxied(scope: Scope) -> bool:
    """The request came through a proxy (so its peer address says nothing about the client)."""
    return bool(scope.get("state", {}).get("proxied"))


class ProxyHeaders:
    """ASGI middleware: the original client and scheme from a trusted proxy's headers; `proxied` marked."""

    def __init__(self, app: ASGIApp, *, trusted: list) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k: v.decode("latin-1") for k, v in scope["headers"] if k in FORWARDED_HEADERS}
            peer = scope["client"][0] if scope.get("client") else None
            if headers:
                scope.setdefault("state", {})["proxied"] = True
            if headers and in_networks(peer, self.trusted):
                hops = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",") if h.strip()]
                client = next((h for h in reversed(hops) if not in_networks(h, self.trusted)), None)
                if client is not None:
                    scope["client"] = (client, 0)
                proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    scope["scheme"] = proto if scope["type"] == "http" else ("wss" if secure else "ws")
        await self.app(scope, receive, send)
