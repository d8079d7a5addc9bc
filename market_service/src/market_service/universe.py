"""Which symbols to follow: SYMBOLS from config, or the top N linear USDT perpetuals by 24h turnover."""

from __future__ import annotations

from common.bybit.rest import BybitRest
from common.bybit.schemas.ticker import Ticker
from common.config import Settings


def rank(tickers: list[Ticker], *, top_n: int) -> list[str]:
    """The `top_n` USDT perpetuals by 24h turnover, highest first (dated futures and USDC perps excluded)."""
    perps = [t for t in tickers if t.symbol.endswith("USDT") and t.turnover24h]
    perps.sort(key=lambda t: (-float(t.turnover24h), t.symbol))
    return [t.symbol for t in perps[:top_n]]


def configured(settings: Settings) -> list[str] | None:
    """SYMBOLS within MARKET_MAX_SYMBOLS, or None when the universe comes from ranking."""
    symbols = list(dict.fromkeys(settings.symbol_list))
    return symbols[: settings.market_max_symbols] if symbols else None


async def resolve(settings: Settings, rest: BybitRest) -> list[str]:
    """The universe right now (one REST call when it is ranked)."""
    fixed = configured(settings)
    if fixed is not None:
        return fixed
    return rank(await rest.tickers(), top_n=min(settings.market_top_n, settings.market_max_symbols))
