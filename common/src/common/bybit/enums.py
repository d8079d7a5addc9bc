"""Bybit's enumerations; every value is the exact wire string."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Category(StrEnum):
    LINEAR = "linear"


@unique
class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"
    NONE = ""  # a flat position


@unique
class OrderType(StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"


@unique
class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


@unique
class OrderStatus(StrEnum):
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    DEACTIVATED = "Deactivated"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED})


@unique
class TriggerBy(StrEnum):
    LAST_PRICE = "LastPrice"
    MARK_PRICE = "MarkPrice"
    INDEX_PRICE = "IndexPrice"


@unique
class BookMsgType(StrEnum):
    SNAPSHOT = "snapshot"
    DELTA = "delta"


@unique
class WsOp(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PING = "ping"
    PONG = "pong"
    AUTH = "auth"


@unique
class PrivateTopic(StrEnum):
    ORDER = "order"
    EXECUTION = "execution"
    POSITION = "position"
    WALLET = "wallet"
