"""Bybit v5 WebSocket client: auth, ping, silence detection, reconnect with backoff, resubscribe."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

import msgspec
import websockets

from common.bybit import constants as k
from common.bybit import lenient
from common.bybit.backoff import Backoff
from common.bybit.enums import WsOp
from common.bybit.schemas.envelope import PrivateMsg, PublicMsg, WsFrame, WsReply, WsRequest
from common.bybit.schemas.execution import Execution
from common.bybit.schemas.kline import Kline
from common.bybit.schemas.order import Order
from common.bybit.schemas.orderbook import OrderbookData
from common.bybit.schemas.position import Position
from common.bybit.schemas.ticker import Ticker
from common.bybit.schemas.trade import PublicTrade
from common.bybit.schemas.wallet import WalletAccount
from common.bybit.signing import ws_auth_signature

log = logging.getLogger(__name__)

# Topic prefix -> (payload type, private?). The table of what each topic carries.
TOPIC_TYPES: dict[str, tuple[type, bool]] = {
    "orderbook": (OrderbookData, False),
    "publicTrade": (list[PublicTrade], False),
    "tickers": (Ticker, False),
    "kline": (list[Kline], False),
    "order": (Order, True),
    "execution": (Execution, True),
    "position": (Position, True),
    "wallet": (WalletAccount, True),
}
_DATA_DECODERS = {name: msgspec.json.Decoder(list[t] if private else t)
                  for name, (t, private) in TOPIC_TYPES.items()}
_frame_decoder = msgspec.json.Decoder(WsFrame)
# The market feed's two topics, decoded in one pass when the frame starts with its topic (as Bybit's
# do): the generic path decodes every frame twice (the envelope, then its data).
_PUBLIC_FAST = tuple(
    (f'{{"topic":"{name}.', f'{{"topic":"{name}.'.encode(), msgspec.json.Decoder(PublicMsg[TOPIC_TYPES[name][0]]))
    for name in ("orderbook", "publicTrade")
)
_encoder = msgspec.json.Encoder()

WsMessage = PublicMsg | PrivateMsg
Handler = Callable[[WsMessage], Awaitable[None] | None]
Hook = Callable[..., Awaitable[None] | None]


class SilentConnection(Exception):
    """No frame at all within the silence bound: the connection is dead even if TCP is up."""


class AuthFailed(Exception):
    """The private stream refused our login (credentials, or an `expires` its clock does not accept):
    retried with backoff like any lost connection, and told to `on_login_failed` each time."""


def parse(raw: bytes | str) -> WsMessage | WsReply:
    """One server frame as a typed topic message, or the op reply it is."""
    is_text = isinstance(raw, str)
    for text, binary, decoder in _PUBLIC_FAST:
        if raw.startswith(text if is_text else binary):
            try:
                msg = decoder.decode(raw)
            except msgspec.DecodeError:
                break  # a null, a missing field: the generic path below decides, as for any frame
            if not msg.cts:
                msg.cts = None
            return msg
    try:
        f = lenient.decode(_frame_decoder, raw)
        if not f.topic:
            return WsReply(op=f.op, success=f.success, ret_msg=f.ret_msg, conn_id=f.conn_id, req_id=f.req_id)
        data = lenient.decode(_DATA_DECODERS[f.topic.split(".", 1)[0]], f.data)
    except (msgspec.DecodeError, KeyError) as e:
        raise ValueError(f"undecodable Bybit frame {raw[:500]!r}: {e}") from e
    if f.creationTime or f.id:
        return PrivateMsg(id=f.id, topic=f.topic, creationTime=f.creationTime, data=data)
    return PublicMsg(topic=f.topic, type=f.type, ts=f.ts, data=data, cts=f.cts or None)


class BybitWs:
    """One public or private stream. `run()` keeps it connected until `close()`; subscriptions are
    state, replayed on every reconnect. `on_message` gets each topic message; `on_connect` runs after
    each (re)subscribe, so the owner can resync what it may have missed; `on_disconnect` runs, with the
    reason, as soon as an established connection is lost, so a drop is seen even when the reconnect
    that follows is quicker than any poll; `on_login_failed` runs, with the reason, on each refused login;
    `on_undecodable(raw, error)` gets a frame that does not decode, and the connection reads on."""

    def __init__(self, *, url: str, on_message: Handler, api_key: str = "", api_secret: str = "",
                 on_connect: Callable[[], Awaitable[None] | None] | None = None,
                 on_disconnect: Callable[[str], Awaitable[None] | None] | None = None,
                 on_login_failed: Callable[[str], Awaitable[None] | None] | None = None,
                 on_undecodable: Callable[[bytes | str, str], Awaitable[None] | None] | None = None,
                 ping_interval_s: float = k.PING_INTERVAL_S, silent_after_s: float = k.SILENT_AFTER_S,
                 backoff: Backoff | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.url = url
        self._on_message, self._on_connect, self._on_disconnect = on_message, on_connect, on_disconnect
        self._on_login_failed, self._on_undecodable = on_login_failed, on_undecodable
        self._key, self._secret = api_key, api_secret
        self._ping_s, self._silent_s = ping_interval_s, silent_after_s
        self._backoff, self._sleep, self._clock_ms = backoff or Backoff(), sleep, clock_ms
        self.topics: list[str] = []
        self.connected = asyncio.Event()
        self.connects = 0  # successful (re)connections, for tests and health
        self._ws: websockets.ClientConnection | None = None
        self._closing = False
        self._req = 0

    async def subscribe(self, topics: Iterable[str]) -> None:
        new = [t for t in topics if t not in self.topics]
        self.topics.extend(new)
        if self._ws is not None and new:
            await self._send_subscribe(WsOp.SUBSCRIBE, new)

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        gone = [t for t in topics if t in self.topics]
        self.topics = [t for t in self.topics if t not in gone]
        if self._ws is not None and gone:
            await self._send_subscribe(WsOp.UNSUBSCRIBE, gone)

    async def resubscribe(self, topic: str) -> None:
        """Ask again for a topic, e.g. for a fresh book snapshot after a gap."""
        if self._ws is not None:
            await self._send_subscribe(WsOp.UNSUBSCRIBE, [topic])
            await self._send_subscribe(WsOp.SUBSCRIBE, [topic])

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()

    async def run(self) -> None:
        """Connect, authenticate, subscribe and read until close(); reconnect with backoff."""
        failures = 0
        while not self._closing:
            try:
                # compression=None: no permessage-deflate offered. Inflating every frame costs CPU on
                # the path of each tick, and Bybit's servers have answered the offer with a handshake
                # websockets refuses (python-websockets/websockets#1068); any server accepts no offer.
                async with websockets.connect(self.url, ping_interval=None, max_size=2**24,
                                              open_timeout=10, compression=None) as ws:
                    self._ws = ws
                    await self._start(ws)
                    failures = 0
                    await self._read(ws)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self._closing:
                    break
                failures += 1
                outside = isinstance(e, SilentConnection | OSError | websockets.ConnectionClosed | AuthFailed)
                log.warning("bybit ws %s: %s: %s; reconnect #%d", self.url, type(e).__name__, e, failures,
                            exc_info=not outside)  # a traceback only for what is not the far end's doing
                if isinstance(e, AuthFailed):
                    await self._tell(self._on_login_failed, str(e))
                elif self.connected.is_set():
                    self.connected.clear()
                    await self._tell(self._on_disconnect, f"{type(e).__name__}: {e}")
            finally:
                self._ws = None
                self.connected.clear()
            if not self._closing:
                await self._sleep(self._backoff.compute(max(failures, 1)))

    async def _start(self, ws: websockets.ClientConnection) -> None:
        if self._key:
            expires = self._clock_ms() + k.WS_AUTH_EXPIRES_MS
            sig = ws_auth_signature(secret=self._secret, expires_ms=expires)
            await ws.send(_encoder.encode(WsRequest(op=WsOp.AUTH, args=[self._key, expires, sig])).decode())
            reply = parse(await asyncio.wait_for(ws.recv(), self._silent_s))
            if not (isinstance(reply, WsReply) and reply.op == WsOp.AUTH and reply.success):
                raise AuthFailed(f"{self.url}: {reply}")
        if self.topics:
            await self._send_subscribe(WsOp.SUBSCRIBE, list(self.topics))
        self.connects += 1
        self.connected.set()
        if self._on_connect is not None:
            await _maybe_await(self._on_connect())

    async def _tell(self, hook: Hook | None, *args: object) -> None:
        """Run one of the owner's hooks; its failing must not stop the reads or the reconnects."""
        if hook is None:
            return
        try:
            await _maybe_await(hook(*args))
        except Exception:
            log.exception("bybit ws %s: %s failed", self.url, getattr(hook, "__name__", "hook"))

    async def _read(self, ws: websockets.ClientConnection) -> None:
        pinger = asyncio.create_task(self._ping(ws))
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), self._silent_s)
                except TimeoutError:
                    raise SilentConnection(f"no frame for {self._silent_s} s") from None
                try:
                    msg = parse(raw)
                except ValueError as e:  # one bad frame: the owner parks it, the stream goes on
                    log.error("bybit ws %s: %s", self.url, e)
                    await self._tell(self._on_undecodable, raw, str(e))
                    continue
                if isinstance(msg, WsReply):
                    if msg.success is False:
                        log.error("bybit ws %s: %s refused: %s", self.url, msg.op, msg.ret_msg)
                    continue
                await _maybe_await(self._on_message(msg))
        finally:
            pinger.cancel()

    async def _ping(self, ws: websockets.ClientConnection) -> None:
        while True:
            await asyncio.sleep(self._ping_s)
            await ws.send(_encoder.encode(WsRequest(op=WsOp.PING, req_id=self._next_req())).decode())

    async def _send_subscribe(self, op: WsOp, topics: list[str]) -> None:
        for i in range(0, len(topics), k.MAX_ARGS_PER_SUBSCRIBE):
            chunk = topics[i:i + k.MAX_ARGS_PER_SUBSCRIBE]
            await self._ws.send(_encoder.encode(WsRequest(op=op, args=chunk,
                                                          req_id=self._next_req())).decode())

    def _next_req(self) -> str:
        self._req += 1
        return str(self._req)


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        await value
