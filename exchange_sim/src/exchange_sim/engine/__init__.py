"""The simulator's engine: market state, a seeded generator or a replay as the market, matching and one
account. Pure and deterministic: time comes in as `now_ms`, nothing here does I/O except `read_replay`."""

from exchange_sim.engine.events import BookUpdate, MarketEvent, TickerUpdate, TradeTick
from exchange_sim.engine.exchange import Exchange
from exchange_sim.engine.generator import MarketGenerator
from exchange_sim.engine.instruments import Instrument, default_instrument, recorded_instruments
from exchange_sim.engine.records import Execution, Order, Position, Wallet
from exchange_sim.engine.replay import read_replay

__all__ = [
    "BookUpdate",
    "Exchange",
    "Execution",
    "Instrument",
    "MarketEvent",
    "MarketGenerator",
    "Order",
    "Position",
    "TickerUpdate",
    "TradeTick",
    "Wallet",
    "default_instrument",
    "read_replay",
    "recorded_instruments",
]
