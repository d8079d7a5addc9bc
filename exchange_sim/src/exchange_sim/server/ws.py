"""WebSocket endpoints: /v5/public/linear and /v5/private, with Bybit's op replies and topics."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec
from aiohttp import WSMsgType, web
from common.bybit.enums import PrivateTopic, WsOp
from common.bybit.schemas.envelope import WsReply, WsRequest
from common.bybit.schemas.orderbook import DEPTHS
from common.bybit.signing import matches, ws_auth_signature

from exchange_sim.server.hub import Conn

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim

_DEPTHS = "|".join(str(d) for d in DEPTHS)
_PUBLIC = re.compile(rf"^(orderbook\.({_DEPTHS})|publicTrade|tickers|kline\.1)\.([A-Z0-9]+)$")
_PRIVATE = frozenset(t.value for t in PrivateTopic)
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(WsRequest)


def add_routes(app: web.Application, sim: Sim) -> None:
    app.router.add_get("/v5/public/linear", lambda r: _serve(sim, r, private=False))
    app.router.add_get("/v5/private", lambda r: _serve(sim, r, private=True))


async def _serve(sim: Sim, request: web.Request, *, private: bool) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True, max_msg_size=2**20)
    await ws.prepare(request)
    silent = (lambda: sim.faults.ws_private_silent) if private else (lambda: sim.faults.ws_public_silent)
    conn = Conn(ws=ws, transport=request.transport, private=private, latency=sim.latency, silent=silent)
    sim.hub.add(conn)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                req = _dec.decode(msg.data)
            except msgspec.DecodeError:
                conn.send(_enc.encode(WsReply(op="", success=False,
                                              ret_msg=f"error:invalid frame {msg.data[:100]}",
                                              conn_id=conn.conn_id, req_id=_req_id_of(msg.data))))
                continue
            _handle(sim, conn, req)
    finally:
        sim.hub.remove(conn)
    return ws


def _req_id_of(data: str) -> str:
    """The req_id of a frame that is not a valid request, when it has one: every reply carries it, so a
    client can fail just the request it belongs to."""
    try:
        frame = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return ""
    rid = frame.get("req_id", "") if isinstance(frame, dict) else ""
    return str(rid) if isinstance(rid, (str, int, float)) and not isinstance(rid, bool) else ""


def _handle(sim: Sim, conn: Conn, req: WsRequest) -> None:
    # Bybit takes a numeric req_id and echoes it back as a string
    # (https://bybit-exchange.github.io/docs/v5/ws/connect)
    rid = str(req.req_id)
    reply = WsReply(op=req.op, success=True, conn_id=conn.conn_id, req_id=rid)
    if req.op == WsOp.PING:
        if conn.private:  # the private pong is shaped differently, as on Bybit
            reply = WsReply(op=WsOp.PONG, req_id=rid, conn_id=conn.conn_id, args=[str(sim.now_ms())])
        else:
            reply.ret_msg = "pong"
    elif req.op == WsOp.AUTH and conn.private:
        reply.ret_msg = _auth(sim, conn, req.args)
        reply.success = conn.authed
    elif req.op in (WsOp.SUBSCRIBE, WsOp.UNSUBSCRIBE):
        bad = [t for t in req.args if not _valid(sim, conn, t)]
        if bad:
            reply.success, reply.ret_msg = False, f"error:handler not found,topics:{','.join(map(str, bad))}"
            if conn.private and not conn.authed:
                reply.ret_msg = "Request not authorized"
        else:
            reply.ret_msg = "" if conn.private else req.op
            conn.send(_enc.encode(reply))
            for topic in map(str, req.args):
                _subscribe(sim, conn, topic) if req.op == WsOp.SUBSCRIBE else sim.hub.unsubscribe(conn, topic)
            return
    else:
        reply.success, reply.ret_msg = False, f"error:unknown op {req.op}"
    conn.send(_enc.encode(reply))


def _valid(sim: Sim, conn: Conn, topic: object) -> bool:
    if not isinstance(topic, str):
        return False
    if conn.private:
        return conn.authed and topic in _PRIVATE
    m = _PUBLIC.match(topic)
    return m is not None and m.group(3) in sim.exchange.instruments


def _subscribe(sim: Sim, conn: Conn, topic: str) -> None:
    if sim.hub.subscribe(conn, topic) and not conn.private:
        frame = sim.feed.snapshot(topic, sim.now_ms())
        if frame is not None:
            conn.send(frame)


def _auth(sim: Sim, conn: Conn, args: list) -> str:
    """Check [api_key, expires_ms, signature of "GET/realtime" + expires]; returns the ret_msg."""
    if len(args) != 3 or not str(args[1]).isdigit():
        return "Params Error"
    key, expires, sign = str(args[0]), int(args[1]), str(args[2])
    if key != sim.config.api_key:
        return "Invalid apikey"
    if expires <= sim.now_ms():  # an expiry already past: Bybit answers "Params Error" (success false)
        return "Params Error"
    if not matches(ws_auth_signature(secret=sim.config.api_secret, expires_ms=expires), sign):
        return "Invalid sign"
    conn.authed = True
    return ""
