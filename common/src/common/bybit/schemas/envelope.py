"""The REST envelope and the WebSocket op/ack frames that wrap every payload."""

from __future__ import annotations

from common.bybit.enums import Category
import builtins
from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every REST reply: retCode 0 means `result` holds the payload."""

    retCode: int
    retMsg: str
    result: T  # `{}` on errors
    retExtInfo: dict = {}
    time: int = 0  # server time, ms


class Empty(msgspec.Struct):
    """The `{}` result of calls that only acknowledge (set-leverage, trading-stop)."""


class ServerTime(msgspec.Struct, kw_only=True):
    """GET /v5/market/time."""

    timeSecond: str
    timeNano: str


class Paged(msgspec.Struct, Generic[T], kw_only=True):
    """The `{"category", "list", "nextPageCursor"}` result of list endpoints."""

    list: builtins.list[T]  # Bybit names the field `list`, shadowing the builtin here
    category: str = Category.LINEAR
    nextPageCursor: str = ""


class WsRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A client frame: subscribe/unsubscribe (topics), ping, or auth ([key, expires, signature])."""

    op: str
    args: list[str | int] = []
    req_id: str | int = ""  # Bybit accepts a number and echoes it as a string


class WsReply(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The server's answer to an op. Public pongs carry ret_msg "pong"; private ones op "pong"."""

    op: str
    success: bool | None = None
    ret_msg: str = ""
    conn_id: str = ""
    req_id: str = ""
    args: list[str] = []


class WsFrame(msgspec.Struct, kw_only=True):
    """Any server frame, read once: `topic` set means data (decoded later by topic), else an op reply."""

    topic: str = ""
    type: str = ""  # "snapshot" | "delta" on public topics
    ts: int = 0  # public: when the system generated the data, ms
    cts: int | None = None  # orderbook: the matching engine's timestamp, ms
    creationTime: int = 0  # private: when the event was created, ms
    id: str = ""  # private: message id
    data: msgspec.Raw = msgspec.Raw(b"null")
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""
    conn_id: str = ""
    req_id: str = ""


class PublicMsg(msgspec.Struct, Generic[T], kw_only=True, omit_defaults=True):
    """A public topic frame, as the server sends it."""

    topic: str
    type: str
    ts: int
    data: T
    cts: int | None = None


class PrivateMsg(msgspec.Struct, Generic[T], kw_only=True):
    """A private topic frame (order, execution, position, wallet), as the server sends it."""

    id: str
    topic: str
    creationTime: int
    data: list[T]
