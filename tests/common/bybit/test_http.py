"""common.bybit.http over real sockets: an order whose connection never opened was not sent (safe to send
again); one whose connection broke after the request went out may exist (looked up, never re-sent)."""

from __future__ import annotations

import asyncio

import pytest
from common.bybit.errors import BybitNetworkError, should_retry
from common.bybit.http import BybitHttp
from common.bybit.schemas.envelope import ServerTime

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


TIME_REPLY = b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"7","timeNano":"7000000000"},"retExtInfo":{},"time":7}'


async def answering_server(heads: list[bytes]) -> tuple[asyncio.Server, str]:
    """An HTTP server that records each request's head and answers Bybit's server time."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(TIME_REPLY), TIME_REPLY))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def server_time(url: str) -> int:
    http = BybitHttp(base_url=url, time_sync=False, timeout_s=5)
    try:
        return int((await http.get("/v5/market/time", {}, ServerTime, auth=False)).timeNano)
    finally:
        await http.aclose()


async def test_rest_goes_through_the_proxy_the_environment_names_as_the_websocket_streams_do(monkeypatch):
    proxied: list[bytes] = []
    proxy, proxy_url = await answering_server(proxied)
    monkeypatch.delenv("http_proxy", raising=False)  # the lower-case name would win over ours
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    bybit = f"http://127.0.0.1:{free_port()}"  # nothing listens there: only the proxy can answer
    try:
        assert await server_time(bybit) == 7_000_000_000
    finally:
        proxy.close()
    assert len(proxied) == 1 and proxied[0].startswith(f"GET {bybit}/v5/market/time HTTP/1.1".encode())


async def test_a_host_no_proxy_names_is_reached_directly(monkeypatch):
    proxied: list[bytes] = []
    direct: list[bytes] = []
    proxy, proxy_url = await answering_server(proxied)
    origin, origin_url = await answering_server(direct)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        assert await server_time(origin_url) == 7_000_000_000
    finally:
        proxy.close()
        origin.close()
    assert not proxied and direct[0].startswith(b"GET /v5/market/time HTTP/1.1")
