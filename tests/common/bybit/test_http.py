"""common.bybit.http over real sockets: an order whose connection never opened was not sent (safe to send
again); one whose connection broke after the request went out may exist (looked up, never re-sent)."""

from __future__ import annotations

import asyncio

import pytest
from common.bybit.errors import BybitNetworkError, should_retry
from common.bybit.http import BybitHttp

from tests.support import free_port

pytestmark = pytest.mark.unit

ORDER = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"}


async def post(url: str) -> BybitNetworkError:
    http = BybitHttp(base_url=url, api_key="key", api_secret="secret", time_sync=False, timeout_s=5)
    try:
        with pytest.raises(BybitNetworkError) as e:
            await http.post("/v5/order/create", ORDER, dict)
        return e.value
    finally:
        await http.aclose()


async def test_an_order_that_could_not_connect_was_not_sent():
    e = await post(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert "cannot connect" in str(e) and not e.ambiguous and should_retry(e)


async def test_an_order_whose_connection_broke_after_sending_may_exist():
    got: list[bytes] = []

    async def read_then_drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.readuntil(b"\r\n\r\n"))  # the request reached the server
        writer.transport.abort()

    server = await asyncio.start_server(read_then_drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        e = await post(f"http://127.0.0.1:{port}")
    finally:
        server.close()
    assert got and got[0].startswith(b"POST /v5/order/create ")
    assert e.ambiguous and not should_retry(e)
