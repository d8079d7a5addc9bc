"""Bus message schemas: one msgspec Struct per message, grouped by stream family.

Every message is tagged (`type`) so one decoder reads any stream, and carries `v`, the schema
version of its family. Market-derived messages carry their timestamp chain in nanoseconds.
"""

from common.schemas.base import Message, encode, DecodeError, now_ns
from common.schemas.market import Trade, BookTop, Microstructure
from common.schemas.strategy import Signal
from common.schemas.execution import OrderIntent, OrderEvent, FillEvent, PositionEvent
from common.schemas.system import Heartbeat, ProcessUsage, Alert, ControlCommand, DeadLetter, Severity, Command, Status
from common.schemas.registry import decode

__all__ = [
    "Message", "encode", "decode", "DecodeError", "now_ns",
    "Trade", "BookTop", "Microstructure", "Signal",
    "OrderIntent", "OrderEvent", "FillEvent", "PositionEvent",
    "Heartbeat", "ProcessUsage", "Alert", "ControlCommand", "DeadLetter", "Severity", "Command", "Status",
]
