"""The one error the engine raises: a Bybit v5 retCode with its retMsg, so the server can pass it on."""

from __future__ import annotations

# Bybit v5 retCodes the engine raises (https://bybit-exchange.github.io/docs/v5/error).
PARAMS = 10001  # request parameter error (also "can not set tp/sl/ts for zero position")
ORDER_NOT_FOUND = 110001  # order does not exist, or is already finished
INSUFFICIENT_BALANCE = 110007  # available balance below initial margin + fee
REDUCE_ONLY = 110017  # reduce-only order would open or grow a position
LEVERAGE_UNCHANGED = 110043  # set-leverage with the current value
DUPLICATE_LINK_ID = 110072  # orderLinkId already used
MIN_NOTIONAL = 110094  # order value below the instrument's minimum
PRICE_PRECISION = 170134  # price is not a multiple of tickSize
QTY_TOO_SMALL = 170136  # qty below minOrderQty
QTY_PRECISION = 170137  # qty is not a multiple of qtyStep
QTY_TOO_LARGE = 170135  # qty above maxOrderQty


class ExchangeError(Exception):
    """A rejected request: `code` is Bybit's retCode, `msg` its retMsg."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
