"""Bus schemas: every message survives the msgpack round trip; garbage is refused, never half-read."""

from __future__ import annotations

import inspect
import sys
import types
import typing

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common import schemas
from common.schemas import Message, Trade, decode, encode
from common.schemas import execution, market, strategy, system
from common.schemas.registry import MESSAGE_TYPES

pytestmark = pytest.mark.unit

INT64 = st.integers(-(2**63), 2**63 - 1)


def values(tp) -> st.SearchStrategy:
    """Values msgpack can carry for a field type (64-bit ints, floats without NaN)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is int:
        return INT64
    if tp is float:
        return st.floats(allow_nan=False)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return structs(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*map(values, args))
    if origin is list:
        return st.lists(values(args[0]), max_size=3)
    if origin is tuple:
        return st.tuples(*map(values, args))
    if origin is dict:
        return st.dictionaries(values(args[0]), values(args[1]), max_size=3)
    return st.from_type(tp)


def structs(cls: type[msgspec.Struct]) -> st.SearchStrategy:
    return st.builds(cls, **{f.name: values(f.type) for f in msgspec.structs.fields(cls)})


def _tagged_in(module) -> set[type[Message]]:
    return {v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Message)
            and v.__module__ == module.__name__ and v.__struct_config__.tag is not None}


def test_the_registry_holds_every_tagged_message_of_every_family():
    assert set(MESSAGE_TYPES) == set().union(*map(_tagged_in, (market, strategy, execution, system)))


def test_every_message_type_is_exported_tagged_and_versioned():
    assert set(MESSAGE_TYPES) == {getattr(schemas, n) for n in schemas.__all__
                                  if isinstance(getattr(schemas, n), type)
                                  and issubclass(getattr(schemas, n), Message)} - {Message}
    tags = [t.__struct_config__.tag for t in MESSAGE_TYPES]
    assert len(set(tags)) == len(tags)
    for t in MESSAGE_TYPES:
        assert t.__struct_config__.frozen
        params = inspect.signature(t).parameters.values()
        assert {p.kind for p in params} == {inspect.Parameter.KEYWORD_ONLY}
        v = next(f for f in msgspec.structs.fields(t) if f.name == "v")
        assert v.default == sys.modules[t.__module__].SCHEMA_VERSION


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda t: t.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_round_trip(cls, data):
    msg = data.draw(structs(cls))
    back = decode(encode(msg))
    assert type(back) is cls and back == msg


@pytest.mark.parametrize("raw", [
    b"", b"\xc1", b"garbage", msgspec.msgpack.encode({"type": "no-such-message"}),
    msgspec.msgpack.encode({"type": "trade", "symbol": "BTCUSDT"}),  # required fields missing
    msgspec.msgpack.encode({"type": "trade", "symbol": 1, "trade_id": "1", "side": "Buy", "price": "1",
                            "size": "1", "exchange_ts_ns": 1, "received_ts_ns": 1}),  # wrong field type
    msgspec.msgpack.encode([1, 2, 3]),
])
def test_garbage_raises_decode_error(raw):
    with pytest.raises(msgspec.DecodeError):
        decode(raw)


def test_an_older_reader_ignores_fields_it_does_not_know():
    newer = msgspec.msgpack.encode({"type": "trade", "v": 2, "symbol": "BTCUSDT", "trade_id": "1", "side": "Buy",
                                    "price": "1", "size": "1", "exchange_ts_ns": 1, "received_ts_ns": 2,
                                    "added_later": [1, 2]})
    msg = decode(newer)
    assert isinstance(msg, Trade) and msg.v == 2 and msg.received_ts_ns == 2


def test_a_heartbeat_names_its_instance_however_quick_the_restart():
    """Same pid and start time (pid 1 in two containers, a coarse clock): the boot_id still tells them
    apart; a v1 heartbeat, without one, is told apart by pid and start time."""
    beat = dict(service="market", cluster="c", ts_ns=3, version="1", status=schemas.Status.GREEN)
    first, second = (schemas.Heartbeat(pid=1, start_ts_ns=5, boot_id=b, **beat) for b in ("a", "b"))
    assert first.instance() != second.instance()
    assert first.instance() == decode(schemas.encode(first)).instance()
    old = msgspec.msgpack.encode({"type": "heartbeat", "v": 1, "pid": 1, "start_ts_ns": 5, **beat})
    older = msgspec.msgpack.encode({"type": "heartbeat", "v": 1, "pid": 2, "start_ts_ns": 6, **beat})
    assert decode(old).instance() != decode(older).instance()
