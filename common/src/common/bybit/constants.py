"""Bybit v5 protocol constants: headers, limits, timing and the retCodes we act on.

retCodes: https://bybit-exchange.github.io/docs/v5/error
"""

from __future__ import annotations

from typing import Final

# --- Auth headers (https://bybit-exchange.github.io/docs/v5/guide#authentication) ----------
H_API_KEY: Final = "X-BAPI-API-KEY"
H_TIMESTAMP: Final = "X-BAPI-TIMESTAMP"
H_RECV_WINDOW: Final = "X-BAPI-RECV-WINDOW"
H_SIGN: Final = "X-BAPI-SIGN"
H_SIGN_TYPE: Final = "X-BAPI-SIGN-TYPE"  # "2" = HMAC-SHA256 hex
# Per-endpoint rate-limit headers Bybit returns on every private call.
H_LIMIT: Final = "X-Bapi-Limit"  # requests allowed per window
H_LIMIT_STATUS: Final = "X-Bapi-Limit-Status"  # requests left in this window
H_LIMIT_RESET: Final = "X-Bapi-Limit-Reset-Timestamp"  # ms when the window resets

DEFAULT_RECV_WINDOW_MS: Final = 5_000
# Bybit accepts server_time - recv_window <= timestamp < server_time + 1000.
FUTURE_TOLERANCE_MS: Final = 1_000

# --- retCodes (https://bybit-exchange.github.io/docs/v5/error) --------------------------------
# The one table: the connector acts on them, the simulator raises them.
OK: Final = 0  # success: `result` holds the payload
PARAMS_ERROR: Final = 10001  # request parameter error (also "can not set tp/sl/ts for zero position")
TIMESTAMP_ERROR: Final = 10002  # timestamp outside the recv window: resync the clock
INVALID_API_KEY: Final = 10003  # unknown API key (the simulator also refuses a wrong admin token with it)
INVALID_SIGN: Final = 10004  # the X-BAPI-SIGN signature does not match
RATE_LIMITED: Final = 10006  # too many visits: wait until X-Bapi-Limit-Reset-Timestamp
SYSTEM_BUSY: Final = 10016  # server error / service restarting
ORDER_NOT_FOUND: Final = 110001  # order does not exist, or is already finished
INSUFFICIENT_BALANCE: Final = 110007  # available balance below initial margin + fee
REDUCE_ONLY_INCREASE: Final = 110017  # a reduce-only order would open or grow a position
POSITION_MODE_BLOCKED: Final = 110024  # switch-mode while a position (or an order) is open
POSITION_MODE_NOT_MODIFIED: Final = 110025  # switch-mode to the mode already set
LEVERAGE_NOT_MODIFIED: Final = 110043  # set-leverage with the current value
TRIGGER_NOT_RISING: Final = 110092  # triggerDirection 1 with triggerPrice at or below the market
TRIGGER_NOT_FALLING: Final = 110093  # triggerDirection 2 with triggerPrice at or above the market
DUPLICATE_ORDER_LINK_ID: Final = 110072  # orderLinkId already used
MIN_NOTIONAL: Final = 110094  # order value below the instrument's minNotionalValue
PRICE_DECIMALS: Final = 170134  # price not a multiple of tickSize
QTY_TOO_LARGE: Final = 170135  # quantity above maxOrderQty
QTY_TOO_SMALL: Final = 170136  # quantity below minOrderQty
QTY_DECIMALS: Final = 170137  # quantity not a multiple of qtyStep

# Transient: the same request may succeed after a wait (timestamp after a clock resync).
RETRY_CODES: Final = frozenset({TIMESTAMP_ERROR, RATE_LIMITED, SYSTEM_BUSY})

# --- WebSocket ---------------------------------------------------------------------------------
# Bybit drops a connection without traffic; it asks for {"op": "ping"} every 20 s.
PING_INTERVAL_S: Final = 20.0
# No frame (data or pong) for this long means the connection is dead even if TCP says otherwise.
SILENT_AFTER_S: Final = 30.0
# Bybit caps the args of one subscribe request (public linear: 10 topics per request).
MAX_ARGS_PER_SUBSCRIBE: Final = 10
# The private auth signature stays valid this long after it is made.
WS_AUTH_EXPIRES_MS: Final = 10_000
# A client's orderLinkId: "A max of 36 characters" (https://bybit-exchange.github.io/docs/v5/order/create-order).
MAX_ORDER_LINK_ID: Final = 36
