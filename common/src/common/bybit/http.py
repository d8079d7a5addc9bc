"""Signed async REST transport for Bybit v5 (aiohttp): time sync, rate limits, retCode -> BybitError.

aiohttp, not httpx: a GET costs this process 81-86 us of CPU through this connector and 387-394 us
through httpx's client (bench/rest_client.py). Every order of a burst waits on one event loop for the
requests before it, so that cost is the orders' latency too (bench/README.md, "Eighth pass").
"""

from __future__ import annotations

import math
import ssl
import time
import urllib.request
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlencode

import aiohttp
import certifi
import msgspec
from yarl import URL

from common.bybit import constants as k
from common.bybit import lenient
from common.bybit.errors import BybitError, BybitNetworkError
from common.bybit.ratelimit import RateLimiter
from common.bybit.schemas.envelope import Envelope, ServerTime
from common.bybit.signing import rest_signature

T = TypeVar("T")
E = TypeVar("E")
# 10006 and 10002 are retried this many times (after the reset / a clock resync) before raising.
MAX_RETRIES = 3
# How long an idle connection is kept for the next request. A short expiry (httpx's 5 s, aiohttp's 15 s)
# makes an order after a quiet spell pay a new TCP (and TLS) handshake. Bybit does not document its
# server-side idle timeout; 50 s stays under the common 60 s of load balancers (AWS ALB), and the
# connector drops a connection the server closed before reusing it.
KEEPALIVE_EXPIRY_S = 50.0
MAX_CONNECTIONS = 100
_encoder = msgspec.json.Encoder()
_envelope = msgspec.json.Decoder(Envelope[msgspec.Raw])


class BybitHttp:
    """One signed HTTP/1.1 client for one account. Parameters are Structs or dicts of strings."""

    def __init__(self, *, base_url: str, api_key: str = "", api_secret: str = "",
                 recv_window_ms: int = k.DEFAULT_RECV_WINDOW_MS, timeout_s: float = 10.0,
                 limiter: RateLimiter | None = None, time_sync: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self._key, self._secret, self._recv_window = api_key, api_secret, recv_window_ms
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None  # made on first use: it needs the running loop
        self._proxy = env_proxy(self.base_url)
        self.limiter = limiter or RateLimiter(clock_ms=self.server_floor_ms)
        self.offset_ms = 0  # server clock - local clock, from sync_time()
        self.offset_error_ms = 0  # how far off offset_ms may be: half the sync's round trip, and rounding
        self._synced = not time_sync  # False: sign with the local clock (e.g. the simulator's admin calls)
        self._decoders: dict[Any, msgspec.json.Decoder] = {}

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_EXPIRY_S,
                                             ssl=ssl.create_default_context(cafile=certifi.where()))
            # no trust_env: it looks the proxy up in a thread on every request (two thread hops, most of
            # a request's CPU); env_proxy() looked it up once instead
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def now_ms(self) -> int:
        """The server's clock as best we know it."""
        return int(time.time() * 1000) + self.offset_ms

    def server_floor_ms(self) -> int:
        """The earliest the server's clock may read now: the rate limiter waits for Bybit's reset by it,
        so a request never reaches a window that has not turned yet on the server (a 10006)."""
        return self.now_ms() - self.offset_error_ms

    async def sync_time(self) -> int:
        """Measure the server clock offset (half the round trip corrected); returns it in ms."""
        t0 = time.time() * 1000
        st = await self.get("/v5/market/time", {}, ServerTime, auth=False)
        t1 = time.time() * 1000
        self.offset_ms = int(st.timeNano) // 1_000_000 - int((t0 + t1) / 2)
        self.offset_error_ms = math.ceil((t1 - t0) / 2) + 1  # +1: both readings cut to whole ms
        self._synced = True
        return self.offset_ms

    async def get(self, path: str, params: dict[str, Any] | msgspec.Struct, result: type[T], *,
                  auth: bool = True, cursor: str | None = None) -> T:
        """A GET; params are sorted into the query string, which is what gets signed. A `cursor` (a
        nextPageCursor) goes last exactly as Bybit sent it: it is percent-encoded already, and encoding
        it again would make it a cursor Bybit never issued."""
        fields = msgspec.structs.asdict(params) if isinstance(params, msgspec.Struct) else params
        query = urlencode(sorted((n, _text(v)) for n, v in fields.items() if v is not None))
        if cursor:
            query += ("&" if query else "") + "cursor=" + cursor
        env = await self._call("GET", path, query.encode(), auth=auth)
        return self._result(env.result, result)

    async def post(self, path: str, body: dict[str, Any] | msgspec.Struct, result: type[T], *,
                   priority: bool = False) -> T:
        """A signed POST; the exact body bytes sent are the bytes signed. `priority` calls may spend
        the rate-limit reserve (reduce-only exits)."""
        env = await self._call("POST", path, _encoder.encode(body), auth=True, priority=priority)
        return self._result(env.result, result)

    async def post_batch(self, path: str, body: msgspec.Struct, result: type[T], ext: type[E], *,
                         orders: int, priority: bool = False) -> tuple[T, E]:
        """A signed batch POST of `orders` orders (each spends one of the window's requests): its
        result and its retExtInfo (the per-order codes)."""
        env = await self._call("POST", path, _encoder.encode(body), auth=True, priority=priority, cost=orders)
        try:
            return self._result(env.result, result), msgspec.convert(env.retExtInfo, ext)
        except msgspec.ValidationError as e:
            raise ValueError(f"undecodable Bybit retExtInfo {env.retExtInfo!r}: {e}") from e

    async def _call(self, method: str, path: str, payload: bytes, *, auth: bool, priority: bool = False,
                    cost: int = 1) -> Envelope[msgspec.Raw]:
        """The envelope of a call that succeeded (retCode 0); BybitError for any other retCode."""
        if auth and not self._synced:
            await self.sync_time()
        for attempt in range(MAX_RETRIES + 1):
            await self.limiter.acquire(path, priority=priority, cost=cost)
            resp = await self._send(method, path, payload, auth=auth)
            self.limiter.update(path, resp.headers)
            env = self._decode(resp.body)
            if env.retCode == k.OK:
                return env
            err = BybitError(env.retCode, env.retMsg)
            if attempt == MAX_RETRIES or env.retCode not in (k.RATE_LIMITED, k.TIMESTAMP_ERROR):
                raise err
            if env.retCode == k.RATE_LIMITED:
                reset = resp.headers.get(k.H_LIMIT_RESET)
                self.limiter.exhaust(path, int(reset) if reset else self.now_ms() + 1000)
            else:
                await self.sync_time()
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, payload: bytes, *, auth: bool) -> Reply:
        headers = {"Content-Type": "application/json"}
        if auth:
            ts = self.now_ms()
            headers.update({k.H_API_KEY: self._key, k.H_TIMESTAMP: str(ts), k.H_SIGN_TYPE: "2",
                            k.H_RECV_WINDOW: str(self._recv_window),
                            k.H_SIGN: rest_signature(secret=self._secret, timestamp=ts, api_key=self._key,
                                                     recv_window=self._recv_window, params=payload)})
        ambiguous = method == "POST"
        query = "?" + payload.decode() if method == "GET" and payload else ""
        url = URL(self.base_url + path + query, encoded=True)  # sent as signed, never re-quoted
        try:
            async with self._client().request(method, url, data=payload if method == "POST" else None,
                                              headers=headers, proxy=self._proxy) as resp:
                reply = Reply(resp.status, resp.headers, await resp.read())
        except aiohttp.ClientConnectorError as e:  # no connection: nothing was sent
            raise BybitNetworkError(f"{method} {path}: cannot connect: {e}", ambiguous=False) from e
        except (aiohttp.ClientError, TimeoutError) as e:  # timeouts, resets: the server may have acted on it
            raise BybitNetworkError(f"{method} {path}: {type(e).__name__} {e}", ambiguous=ambiguous) from e
        if reply.status >= 500:
            raise BybitNetworkError(f"{method} {path}: HTTP {reply.status}", ambiguous=ambiguous)
        if reply.status != 200:
            raise BybitNetworkError(f"{method} {path}: HTTP {reply.status} "
                                    f"{reply.body[:200].decode(errors='replace')}", ambiguous=False)
        return reply

    @staticmethod
    def _decode(body: bytes) -> Envelope[msgspec.Raw]:
        """The envelope alone; an error's `{}` result is never decoded as the success type."""
        try:
            return lenient.decode(_envelope, body)
        except msgspec.DecodeError as e:
            raise ValueError(f"undecodable Bybit reply {body[:500]!r}: {e}") from e

    def _result(self, raw: msgspec.Raw | None, result: type[T]) -> T:
        dec = self._decoders.get(result)
        if dec is None:
            dec = self._decoders[result] = msgspec.json.Decoder(result)
        try:
            return lenient.decode(dec, raw or b"{}")
        except msgspec.DecodeError as e:
            raise ValueError(f"undecodable Bybit result {bytes(raw or b'')[:500]!r}: {e}") from e


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY or HTTP_PROXY, unless NO_PROXY covers its
    host), so REST takes the same way out as the WebSocket streams, which websockets routes by the same
    variables. Read once per client: the environment of a running service does not change. The config
    (Settings.check) refuses a proxy that is not http:// or https://, which aiohttp cannot use."""
    target = URL(url)
    if urllib.request.proxy_bypass(f"{target.host}:{target.port}"):
        return None
    return urllib.request.getproxies().get(target.scheme)


class Reply(NamedTuple):
    status: int
    headers: Mapping[str, str]  # case-insensitive, as aiohttp gives them
    body: bytes


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
