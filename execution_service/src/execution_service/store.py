"""The service's view in Redis: open orders, positions, intents, fills seen, and the failover state.

Kept in Redis (not in memory) so a restarted process, the CLI and the dashboard all read the same view.
Orders and positions are stored as Bybit's own wire Structs, JSON-encoded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import msgspec
import redis.asyncio as aioredis

from common import constants as c
from common.bybit.enums import OPEN_STATUSES, RejectReason
from common.constants import FINAL_INTENT_STATUSES, UNSENT_INTENT_STATUSES, IntentStatus
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from common.schemas import OrderIntent, now_ns

FILLS_KEPT = 20_000
# A PostOnly that Bybit cancels because it would take liquidity is sent again as a taker under this
# suffix (orderLinkIds are unique): both orders carry the one intent.
TAKER_SUFFIX = "-t"
POST_ONLY_CROSSED = RejectReason.POST_ONLY_WILL_TAKE_LIQUIDITY
# The further pieces of an exit split by maxMktOrderQty: "_1".."_9" (no intent id holds an underscore:
# ours are a prefix, a symbol, dashes and digits, or a prefix and a hex uuid).
CHUNK_MARK = "_"


def chunk_link(intent_link: str, n: int) -> str:
    """The orderLinkId of piece `n` (0-9) of an exit split by maxMktOrderQty: the first keeps the intent's
    id, the others add CHUNK_MARK and a digit (link_ids.SUFFIX_ROOM keeps room for two characters)."""
    return f"{intent_link}{CHUNK_MARK}{n}" if n else intent_link


def intent_id_of(order_link_id: str) -> str:
    """The intent an orderLinkId of ours belongs to (without a taker or an exit-piece suffix)."""
    link = order_link_id.removesuffix(TAKER_SUFFIX)
    return link[:-2] if link[-2:-1] == CHUNK_MARK and link[-1:].isdigit() else link


class IntentRecord(msgspec.Struct, kw_only=True):
    """What became of an intent. `queued`: recorded, not sent; `sending`: a submit may be in flight (look
    it up, never resend blind); `unknown`: its reply was lost, settled by proof; then `acked` and a final
    status."""

    intent_id: str
    symbol: str
    side: str
    reduce_only: bool = False
    status: IntentStatus
    reason: str = ""
    order_id: str = ""
    take_profit: str = ""
    stop_loss: str = ""
    ts_ns: int  # when it was first handled
    ack_ts_ns: int = 0  # when we learnt that the exchange has the order
    intent: OrderIntent | None = None  # kept until it is sent, so a restart can finish the job


@dataclass(frozen=True)
class ExposureView:
    """What the limits decide entries against, as one read saw it: the positions, the open orders and the
    records of the intents asked about; `read_at` (monotonic) is when the read was sent."""

    positions: dict[str, Position]
    orders: dict[str, Order]
    records: dict[str, IntentRecord | None]
    read_at: float


_enc = msgspec.json.Encoder()
_order = msgspec.json.Decoder(Order)
_position = msgspec.json.Decoder(Position)
_intent = msgspec.json.Decoder(IntentRecord)
_fills_by_link = msgspec.json.Decoder(dict[str, int])


def _decoded(raw: dict[bytes, bytes], decoder: msgspec.json.Decoder) -> dict:
    """A hash of JSON-encoded Structs, by field."""
    return {k.decode(): decoder.decode(v) for k, v in raw.items()}


# KEYS[1] a hash of Bybit objects; ARGV: the field, the update's updatedTime (ms), its JSON ("": delete).
# The update is applied unless the stored object's updatedTime is newer. Returns 1 when applied.
_NEWER = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and (tonumber(cjson.decode(old)['updatedTime']) or 0) > tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
"""


# KEYS[1] the executions seen (a sorted set by exchange ms); ARGV: the execId, its ms, the set's bound.
# 1 the first time (then the set is cut to its bound), 0 after.
_FIRST_SEEN = """
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then
  return 0
end
local keep = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[1]) > keep then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -keep - 1)
end
return 1
"""

# KEYS[1] the ownership hash (symbol -> JSON {orderLinkId: ms of its last fill}; ms stay integers under
# cjson's 14 digits); ARGV: the symbol, our orderLinkId, the fill's ms.
_OWN = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local links = raw and cjson.decode(raw) or {}
local ts = tonumber(ARGV[3])
if (links[ARGV[2]] or 0) < ts then
  links[ARGV[2]] = ts
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(links))
"""

# KEYS[1] the ownership hash; ARGV: the symbol, the ms it was flat at: fills after it stay.
_FLAT = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return
end
local after, left = {}, false
for link, ts in pairs(cjson.decode(raw)) do
  if ts > tonumber(ARGV[2]) then
    after[link], left = ts, true
  end
end
if left then
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(after))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
"""


def order_key(o: Order) -> str:
    return o.orderLinkId or o.orderId


class Store:
    """Reads and writes the service's view in Redis (the EXEC_*_KEY names in common.constants)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.r = redis
        self._newer_script = redis.register_script(_NEWER)
        self._first_seen_script = redis.register_script(_FIRST_SEEN)
        self._own_script, self._flat_script = redis.register_script(_OWN), redis.register_script(_FLAT)
        self.lock = asyncio.Lock()  # one process writes intents: read-modify-write under this lock

    # --- orders ---
    async def orders(self) -> dict[str, Order]:
        return _decoded(await self.r.hgetall(c.EXEC_ORDERS_KEY), _order)

    async def apply_order(self, o: Order) -> None:
        """An order update: open ones are kept, finished ones dropped; an older update never wins."""
        await self._newer(c.EXEC_ORDERS_KEY, order_key(o), o.updatedTime,
                          _enc.encode(o) if o.orderStatus in OPEN_STATUSES else b"")

    # --- positions ---
    async def positions(self) -> dict[str, Position]:
        return _decoded(await self.r.hgetall(c.EXEC_POSITIONS_KEY), _position)

    async def apply_position(self, p: Position) -> None:
        """A position update; an older one than the view's (by updatedTime) never wins."""
        await self._newer(c.EXEC_POSITIONS_KEY, p.symbol, p.updatedTime,
                          b"" if float(p.size or 0) == 0 else _enc.encode(p))

    async def _newer(self, key: str, field: str, updated_ms: str, value: bytes) -> None:
        """`value` into the hash's field (b"": the field deleted) unless the update there is newer, in one
        atomic step: the stream's handler, a recovery's merge and a router's lookup write concurrently."""
        await self._newer_script(keys=[key], args=[field, int(updated_ms or 0), value])

    async def merge(self, *, orders: list[Order], positions: list[Position]) -> None:
        """A snapshot the stream moved past while it was taken: each item only where it is not older
        than the view's (nothing is removed; the next clean snapshot does that)."""
        for o in orders:
            await self.apply_order(o)
        for p in positions:
            await self.apply_position(p)

    async def replace(self, *, orders: list[Order], positions: list[Position]) -> None:
        """The exchange's snapshot becomes the view, in one transaction."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(c.EXEC_ORDERS_KEY, c.EXEC_POSITIONS_KEY)
            open_orders = {order_key(o): _enc.encode(o) for o in orders if o.orderStatus in OPEN_STATUSES}
            if open_orders:
                pipe.hset(c.EXEC_ORDERS_KEY, mapping=open_orders)
            held = {p.symbol: _enc.encode(p) for p in positions if float(p.size or 0) != 0}
            if held:
                pipe.hset(c.EXEC_POSITIONS_KEY, mapping=held)
            await pipe.execute()

    # --- intents ---
    async def intent(self, intent_id: str) -> IntentRecord | None:
        raw = await self.r.hget(c.EXEC_INTENTS_KEY, intent_id)
        return None if raw is None else _intent.decode(raw)

    async def exposure_view(self, intent_ids: list[str]) -> ExposureView:
        """Positions, open orders and these intents' records, read in one round trip (the limits' view;
        each as positions(), orders() and intent() read it)."""
        async with self.r.pipeline(transaction=False) as pipe:
            read_at = _ask_view(pipe, intent_ids)
            return _viewed(await pipe.execute(), intent_ids, read_at=read_at)

    async def add_intents(self, recs: list[IntentRecord]) -> list[bool]:
        """Record new intents in one round trip; for each, False (nothing written) when it had a record."""
        async with self.r.pipeline(transaction=False) as pipe:
            _ask_add(pipe, recs)
            return [bool(added) for added in await pipe.execute()]

    async def add_intents_viewing(self, recs: list[IntentRecord],
                                  intent_ids: list[str]) -> tuple[list[bool], ExposureView]:
        """add_intents() and exposure_view() in the same round trip: entries just read are recorded and
        find the view they will be decided on already read."""
        async with self.r.pipeline(transaction=False) as pipe:
            _ask_add(pipe, recs)
            read_at = _ask_view(pipe, intent_ids)
            replies = await pipe.execute()
        return [bool(added) for added in replies[:len(recs)]], _viewed(replies[len(recs):], intent_ids,
                                                                        read_at=read_at)

    async def intents(self) -> dict[str, IntentRecord]:
        return _decoded(await self.r.hgetall(c.EXEC_INTENTS_KEY), _intent)

    async def put_intent(self, rec: IntentRecord) -> None:
        await self.r.hset(c.EXEC_INTENTS_KEY, rec.intent_id, _enc.encode(rec))

    async def put_intents(self, recs: list[IntentRecord]) -> list[None]:
        """Several records in one round trip (a burst's `sending`); one None per record."""
        await self.r.hset(c.EXEC_INTENTS_KEY, mapping={rec.intent_id: _enc.encode(rec) for rec in recs})
        return [None] * len(recs)

    async def settle_intent(self, intent_id: str, *, status: IntentStatus, reason: str = "",
                            order_id: str = "") -> bool:
        """Move a known, unfinished intent to `status`; False when unknown or already final."""
        async with self.lock:
            rec = await self.intent(intent_id)
            if rec is None or rec.status in FINAL_INTENT_STATUSES or (rec.status == status and not reason):
                return False
            rec.status, rec.reason = status, reason or rec.reason
            rec.order_id = order_id or rec.order_id
            await self.put_intent(rec)
            return True

    async def mark_acked(self, intent_id: str, order_id: str, *, at_ns: int = 0) -> None:
        """The exchange has the order: `sending` becomes `acked` (a fill may have settled it already);
        `at_ns`: when its reply arrived (default now)."""
        async with self.lock:
            rec = await self.intent(intent_id)
            if rec is None:
                return
            if rec.status in UNSENT_INTENT_STATUSES:
                rec.status, rec.order_id = IntentStatus.ACKED, order_id
            rec.ack_ts_ns = rec.ack_ts_ns or at_ns or now_ns()
            await self.put_intent(rec)

    async def prune_intents(self, *, older_than_s: float) -> int:
        cutoff = now_ns() - int(older_than_s * 1e9)
        old = [i for i, rec in (await self.intents()).items()
               if rec.status in FINAL_INTENT_STATUSES and rec.ts_ns < cutoff]
        if old:
            await self.r.hdel(c.EXEC_INTENTS_KEY, *old)
        return len(old)

    # --- fills ---
    async def last_fill_ms(self) -> int | None:
        """The exchange time of the newest execution we have handled, None before the first."""
        newest = await self.r.zrange(c.EXEC_FILLS_KEY, -1, -1, withscores=True)
        return int(newest[0][1]) if newest else None

    async def fills_watermark(self) -> int | None:
        """Exchange ms before which every execution was read over REST; None before the first read."""
        raw = await self.r.get(c.EXEC_FILLS_WATERMARK_KEY)
        return None if raw is None else int(raw)

    async def advance_fills_watermark(self, ts_ms: int) -> None:
        """Move the watermark forward (never back: an older read proves nothing new)."""
        old = await self.fills_watermark()
        if old is None or ts_ms > old:
            await self.r.set(c.EXEC_FILLS_WATERMARK_KEY, ts_ms)

    async def record_funding(self, raw: bytes) -> None:
        """A funding execution (already deduplicated by first_seen), newest first, FILLS_KEPT of them."""
        await self.r.lpush(c.EXEC_FUNDING_KEY, raw)
        await self.r.ltrim(c.EXEC_FUNDING_KEY, 0, FILLS_KEPT - 1)

    async def first_seen(self, exec_id: str, ts_ms: int) -> bool:
        """True the first time an execution is seen (so a fill is published once across restarts)."""
        return bool(await self._first_seen_script(keys=[c.EXEC_FILLS_KEY], args=[exec_id, ts_ms, FILLS_KEPT]))

    # --- ownership: which of our orders built each position (kept while the position lives) ---
    async def owners(self) -> dict[str, dict[str, int]]:
        """symbol -> {orderLinkId of ours: exchange time (ms) of its last fill} since the symbol was flat."""
        raw = await self.r.hgetall(c.EXEC_OWNERSHIP_KEY)
        return {k.decode(): _fills_by_link.decode(v) for k, v in raw.items()}

    async def record_fill(self, *, symbol: str, link: str, ts_ms: int) -> None:
        """A fill of our order `link` went into the position on `symbol` (one atomic script: the stream's
        handler and a recovery's fills update the same record)."""
        await self._own_script(keys=[c.EXEC_OWNERSHIP_KEY], args=[symbol, link, ts_ms])

    async def position_flat(self, *, symbol: str, ts_ms: int) -> None:
        """The position on `symbol` was flat at `ts_ms`: the fills up to then built nothing that is left
        (a fill after it, of a position reopened meanwhile, stays)."""
        await self._flat_script(keys=[c.EXEC_OWNERSHIP_KEY], args=[symbol, ts_ms])


def _ask_add(pipe: aioredis.client.Pipeline, recs: list[IntentRecord]) -> None:
    for rec in recs:
        pipe.hsetnx(c.EXEC_INTENTS_KEY, rec.intent_id, _enc.encode(rec))


def _ask_view(pipe: aioredis.client.Pipeline, intent_ids: list[str]) -> float:
    """Queue the exposure view's commands; the monotonic time of the read (it is sent next)."""
    pipe.hgetall(c.EXEC_POSITIONS_KEY)
    pipe.hgetall(c.EXEC_ORDERS_KEY)
    if intent_ids:
        pipe.hmget(c.EXEC_INTENTS_KEY, intent_ids)
    return time.monotonic()


def _viewed(replies: list, intent_ids: list[str], *, read_at: float) -> ExposureView:
    positions, orders, *records = replies
    raw = records[0] if records else []
    return ExposureView(positions=_decoded(positions, _position), orders=_decoded(orders, _order),
                        records={i: None if v is None else _intent.decode(v)
                                 for i, v in zip(intent_ids, raw, strict=True)}, read_at=read_at)
