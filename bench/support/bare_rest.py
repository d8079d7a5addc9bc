"""The best a careful hand-written client does against the simulator: the benches' REST baseline.

One persistent `aiohttp.ClientSession` (about a fifth of httpx's CPU per request, `bench/rest_client.py`;
`common.bybit` sends with it too) whose keep-alive pool holds `connections` connections, all opened
before the first timed request; each order is signed exactly as `common.bybit` signs it (the same
headers, HMAC over timestamp + key + recv window + the exact body bytes) and sent at once, never
queued behind a rate limiter or a lock of ours; the reply's envelope is decoded and its retCode
checked, as any client must. `connections` should cover the requests in flight at the bench's rate
(Little's law: rate x latency, with room for the tail), so no request waits for a free connection.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import msgspec

from common.bybit import constants as k
from common.bybit.enums import OrderType, Side
from common.bybit.rest import LINEAR
from common.bybit.schemas.envelope import Envelope
from common.bybit.schemas.order import OrderId, PlaceOrderParams
from common.bybit.signing import rest_signature

CREATE = "/v5/order/create"
_encode = msgspec.json.Encoder().encode
_reply = msgspec.json.Decoder(Envelope[msgspec.Raw]).decode
_order_id = msgspec.json.Decoder(OrderId).decode


def connections_for(rate: float) -> int:
    """Connections for `rate` requests/s: a 50 ms tail per request in flight, at least 4."""
    return max(4, int(rate * 0.05) + 1)


class BareRest:
    """A signed order client with a warm keep-alive pool (see the module docstring)."""

    def __init__(self, *, base_url: str, api_key: str, api_secret: str, connections: int) -> None:
        """Made in a running event loop (aiohttp's session needs it)."""
        self.key, self.secret, self.connections = api_key, api_secret, connections
        self.base_url = base_url.rstrip("/")
        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=3600),
            timeout=aiohttp.ClientTimeout(total=10.0))

    async def warm(self) -> None:
        """Open every connection of the pool now (concurrent requests force one each)."""
        async def one() -> None:
            async with self.client.get(self.base_url + "/v5/market/time") as resp:
                await resp.read()
        await asyncio.gather(*(one() for _ in range(self.connections)))

    async def place(self, *, symbol: str, link_id: str, price: str | None = None, side: str = Side.BUY,
                    qty: str = "0.001") -> float:
        """Place one order (a limit at `price`, else a market one); returns request -> decoded reply in ms."""
        body = _encode(PlaceOrderParams(category=LINEAR, symbol=symbol, side=side, qty=qty, price=price,
                                        orderType=OrderType.LIMIT if price else OrderType.MARKET,
                                        orderLinkId=link_id))
        t0 = time.perf_counter()
        ts = int(time.time() * 1000)
        recv = k.DEFAULT_RECV_WINDOW_MS
        headers = {"Content-Type": "application/json", k.H_API_KEY: self.key, k.H_TIMESTAMP: str(ts),
                   k.H_SIGN_TYPE: "2", k.H_RECV_WINDOW: str(recv),
                   k.H_SIGN: rest_signature(secret=self.secret, timestamp=ts, api_key=self.key,
                                            recv_window=recv, params=body)}
        async with self.client.post(self.base_url + CREATE, data=body, headers=headers) as resp:
            env = _reply(await resp.read())  # the envelope first: an error's result is `{}`
        if env.retCode != k.OK:
            raise RuntimeError(f"order {link_id} refused: {env.retCode} {env.retMsg}")
        _order_id(env.result)
        return (time.perf_counter() - t0) * 1000

    async def aclose(self) -> None:
        await self.client.close()
