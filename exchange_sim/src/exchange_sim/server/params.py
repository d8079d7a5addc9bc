"""Request parameter checks shared by the handlers; each failure is Bybit's 10001 naming the field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from common.bybit import constants as k
from common.bybit.enums import Category

from common.bybit.errors import BybitError

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim


def category(value: str | None) -> None:
    if value != Category.LINEAR:
        raise BybitError(k.PARAMS_ERROR, f"params error: category [{value}] is not supported (linear only)")


def lists_category(value: str | None) -> bool:
    """For a list endpoint: True for linear; False for another of Bybit's categories (inverse, spot,
    option), which this exchange has nothing in, so the answer is retCode 0 with an empty list, as Bybit
    answers an account with nothing there; 10001 for anything else."""
    if value == Category.LINEAR:
        return True
    if value in tuple(Category):
        return False
    raise BybitError(k.PARAMS_ERROR, f"params error: category [{value}] is invalid")


def symbol(sim: Sim, value: str | None, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise BybitError(k.PARAMS_ERROR, "params error: symbol is required")
        return None
    if value not in sim.exchange.instruments:
        raise BybitError(k.PARAMS_ERROR, f"params error: symbol invalid [{value}]")
    return value


def symbol_or_settle(sim: Sim, q_symbol: str | None, settle: str | None) -> str | None:
    """A list call needs a symbol, or settleCoin=USDT for all symbols."""
    if q_symbol:
        return symbol(sim, q_symbol)
    if settle != "USDT":
        raise BybitError(k.PARAMS_ERROR, "params error: symbol or settleCoin is required")
    return None


def decimal(name: str, value: str | None, *, required: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise BybitError(k.PARAMS_ERROR, f"params error: {name} is required")
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BybitError(k.PARAMS_ERROR, f"params error: {name} [{value}] is not a number") from None


def integer(name: str, value: str | None, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not str(value).isdigit() or not low <= int(value) <= high:
        raise BybitError(k.PARAMS_ERROR, f"params error: {name} [{value}] must be an integer in {low}..{high}")
    return int(value)


def choice(name: str, value, options: tuple):
    if value not in options:
        raise BybitError(k.PARAMS_ERROR,
                         f"params error: {name} [{value}] must be one of {', '.join(map(str, options))}")
    return value
