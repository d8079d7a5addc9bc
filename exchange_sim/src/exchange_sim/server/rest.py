"""The REST pipeline: faults, latency, Bybit auth, rate limits, params, and the retCode envelope.

A handler takes (sim, params) and returns a wire Struct; it raises BybitError for a
retCode. Each handler module lists its routes in a `ROUTES` table, and app.py hands them all to
`add_routes`, so the REST surface is assembled in one place, not by import side effects.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec
from aiohttp import web
from common.bybit import constants as k
from common.bybit.errors import BybitError
from common.bybit.schemas.envelope import Envelope
from common.bybit.signing import matches, rest_signature

from exchange_sim import engine as e

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim

# A dropped or timed-out reply is held this long (longer than any sane client timeout).
HOLD_S = 120.0
ADMIN_TOKEN_HEADER = "X-Sim-Admin-Token"
_enc = msgspec.json.Encoder()


class Reply(Exception):
    """Leave the pipeline with a raw HTTP answer (the ambiguous-submit fault)."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


@dataclass(frozen=True)
class Route:
    """One REST endpoint: its method and path, its handler, and how the pipeline treats it."""

    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    auth: bool
    params: type[msgspec.Struct] | None = None  # POST body type; None for GET (a dict of query strings)
    admin: bool = False  # exempt from faults, latency and rate limits; token or signature
    # a batch: the rate-limit units its params spend (one per order); the handler is told how many of
    # them the window granted (`granted=`), the first ones in the request
    weight: Callable[[Any], int] | None = None


class Extended(NamedTuple):
    """A handler's result with the retExtInfo to send beside it (a batch's per-order codes)."""

    result: Any
    ret_ext_info: Any


def add_routes(app: web.Application, sim: Sim, *, routes: Iterable[Route]) -> None:
    """Serve each route through the pipeline."""
    for r in routes:
        app.router.add_route(r.method, r.path, _endpoint(sim, r))


def _endpoint(sim: Sim, r: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        headers: dict[str, str] = {}
        if not r.admin:
            if sim.faults.rest_drop:
                await asyncio.sleep(HOLD_S)
                return web.Response(status=504)
            await asyncio.sleep(sim.latency.seconds() + sim.faults.rest_delay_ms / 1000)
        try:
            body = await request.read()
            if r.admin:
                _admin_auth(sim, request, body)
            elif r.auth:
                uid = _auth(sim, request, body)
                sim.requests[r.path] += 1
                if r.weight is None:
                    _, headers = _limit(sim, uid, r.path)
            params = _params(r, request, body)
            if r.weight is None:
                result = await r.handler(sim, params)
            else:
                granted, headers = _limit(sim, uid, r.path, n=r.weight(params))
                result = await r.handler(sim, params, granted=granted)
            ext = {}
            if isinstance(result, Extended):
                result, ext = result
            env = Envelope(retCode=0, retMsg="OK", result=result, retExtInfo=ext, time=sim.now_ms())
        except Reply as reply:
            return reply.response
        except BybitError as err:
            headers = getattr(err, "headers", headers)
            env = Envelope(retCode=err.code, retMsg=err.message, result={}, time=sim.now_ms())
        return web.Response(body=_enc.encode(env), headers=headers, content_type="application/json")
    return handle


def _auth(sim: Sim, request: web.Request, body: bytes, *, skewed: bool = True) -> str:
    """Check the X-BAPI-* headers as Bybit does; returns the account's uid. Admin calls are checked
    against the true clock (`skewed=False`), so the clock-skew fault never locks out its own switch."""
    h = request.headers
    key, ts, sign = h.get(k.H_API_KEY, ""), h.get(k.H_TIMESTAMP, ""), h.get(k.H_SIGN, "")
    window = h.get(k.H_RECV_WINDOW, str(k.DEFAULT_RECV_WINDOW_MS))
    if not key or key != sim.config.api_key:
        raise BybitError(k.INVALID_API_KEY, "API key is invalid.")
    if not (ts.isdigit() and window.isdigit()):
        raise BybitError(k.PARAMS_ERROR, "invalid X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW")
    now = sim.now_ms() if skewed else sim.true_now_ms()
    if not now - int(window) <= int(ts) < now + k.FUTURE_TOLERANCE_MS:
        raise BybitError(k.TIMESTAMP_ERROR, "invalid request, please check your server timestamp or "
                       f"recv_window param. req_timestamp[{ts}],server_timestamp[{now}],"
                       f"recv_window[{window}]")
    # the query string exactly as sent (percent-escapes and all) is what the client signed
    signed = request.rel_url.raw_query_string.encode() if request.method == "GET" else body
    expected = rest_signature(secret=sim.config.api_secret, timestamp=ts, api_key=key, recv_window=window,
                              params=signed)
    if not matches(expected, sign):
        raise BybitError(k.INVALID_SIGN, "error sign! origin_string[" + f"{ts}{key}{window}" + signed.decode(
            errors="replace") + "]")
    return "1"  # the simulator has one account


def _admin_auth(sim: Sim, request: web.Request, body: bytes) -> None:
    """The account's signature, or the admin token from a loopback address."""
    token = request.headers.get(ADMIN_TOKEN_HEADER)
    if token is None:
        _auth(sim, request, body, skewed=False)
        return
    remote = request.remote or ""
    loopback = remote and ipaddress.ip_address(remote.split("%")[0]).is_loopback
    if not (sim.config.admin_token and loopback and hmac.compare_digest(sim.config.admin_token, token)):
        raise BybitError(k.INVALID_API_KEY, "admin token refused")


def _limit(sim: Sim, uid: str, path: str, *, n: int = 1) -> tuple[int, dict[str, str]]:
    """How many of the call's `n` units the window grants (10006 for the whole call when none), and
    the headers to send."""
    granted, headers = sim.limits.take(uid=uid, path=path, now_ms=sim.now_ms(), n=n)
    if sim.faults.rate_limit_burst > 0:
        sim.faults.rate_limit_burst -= 1
        granted = 0
    if not granted:
        raise _RateLimited(headers)
    return granted, headers


class _RateLimited(BybitError):
    """10006 with the rate-limit headers Bybit sends along, which the reply must carry."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(k.RATE_LIMITED, "Too many visits!")
        self.headers = headers


def _params(r: Route, request: web.Request, body: bytes) -> Any:
    if r.params is None:
        return dict(request.query)
    try:
        return msgspec.json.decode(body or b"{}", type=r.params, strict=False)
    except msgspec.DecodeError as err:
        raise BybitError(k.PARAMS_ERROR, f"params error: {err}") from None
