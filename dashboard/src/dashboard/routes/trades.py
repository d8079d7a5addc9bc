"""The trades page (/trades): round trips rebuilt from execution's fills (entry, exit, P&L, fees, holding
time, the signal that opened it), filtered by symbol, UTC day and outcome, and exported as CSV; and the
equity curve over a day, week, month or year (/api/equity)."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dashboard import formatting as fmt
from dashboard import equity_view, round_trips
from dashboard import trading_models as trading
from dashboard.deps import RuntimeDep, UserDep
from dashboard.responses import render

page = APIRouter(prefix="/trades", tags=["trades"])
api = APIRouter(prefix="/api/trades", tags=["trades"])
equity_api = APIRouter(prefix="/api/equity", tags=["trades"])
WINDOW = timedelta(days=7)  # without a day: trips closed in the last week
LOOKBACK = timedelta(days=2)  # with a day: fills read from this long before it, for trips opened earlier
CSV_COLUMNS = ("symbol", "side", "qty", "entry_price", "exit_price", "gross_pnl", "fees", "net_pnl",
               "outcome", "opened_utc", "closed_utc", "holding_s", "fills", "signal", "entry_link")
Symbol = Annotated[str | None, Query(max_length=40, pattern="^[A-Za-z0-9]*$")]
Day = Annotated[str | None, Query(max_length=10, description="a UTC day, YYYY-MM-DD")]
BAD_DAY = {400: {"description": "a day that is not YYYY-MM-DD"}}  # every route taking Day answers it
Outcome = Annotated[Literal["win", "loss", "even", ""] | None, Query()]
Period = Annotated[Literal["day", "week", "month", "year"], Query(description="how far back the curve goes")]


def _day(text: str | None) -> date | None:
    """The day filter, or None for the last WINDOW; a 400 for anything but YYYY-MM-DD."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=400, detail=f"day: {text!r} is not YYYY-MM-DD") from None


def _totals(trips: list[dict]) -> dict[str, str]:
    """Count, wins and losses, win rate, net P&L and fees of `trips`, formatted."""
    wins = sum(t["outcome"] == "win" for t in trips)
    net = sum((fmt.dec(t["net_pnl"]) for t in trips), fmt.dec(0))
    fees = sum((fmt.dec(t["fees"]) for t in trips), fmt.dec(0))
    losses = sum(t["outcome"] == "loss" for t in trips)
    return {"trips": str(len(trips)), "wins": str(wins), "losses": str(losses),
            "win_rate": fmt.pct(100 * wins / len(trips)) if trips else "", "net_pnl": fmt.usdt(net),
            "fees": fmt.usdt(-fees)}


async def _trades(rt, *, symbol: str | None, day: str | None, outcome: str | None) -> dict:
    """The round trips matching the filters, newest first, with their totals."""
    wanted = _day(day)
    if wanted is None:
        since = datetime.fromtimestamp(time.time(), UTC) - WINDOW
        first, last = since, None
    else:
        first = datetime.combine(wanted, datetime.min.time(), UTC)
        since, last = first - LOOKBACK, first + timedelta(days=1)
    trips = await round_trips.from_stream(rt.bus.redis, since_ms=int(since.timestamp() * 1000))
    lo = int(first.timestamp() * fmt.NS_PER_S)
    hi = int(last.timestamp() * fmt.NS_PER_S) if last else None
    symbol = (symbol or "").upper() or None
    picked = [t for t in trips if t["closed_ns"] >= lo and (hi is None or t["closed_ns"] < hi)
              and (symbol is None or t["symbol"] == symbol) and (not outcome or t["outcome"] == outcome)]
    return {"day": day or None, "symbol": symbol, "outcome": outcome or None, "trips": picked,
            "totals": _totals(picked)}


@page.get("", response_class=HTMLResponse, responses=BAD_DAY)
async def trades_page(request: Request, user: UserDep, rt: RuntimeDep, symbol: Symbol = None, day: Day = None,
                      outcome: Outcome = None):
    """Round trips with their filters and totals."""
    found = await _trades(rt, symbol=symbol, day=day, outcome=outcome)
    return render(request, "trades.html", user=user, periods=equity_view.PERIODS, **found)


@api.get("", response_model=trading.Trades, responses=BAD_DAY)
async def trades(rt: RuntimeDep, symbol: Symbol = None, day: Day = None, outcome: Outcome = None) -> dict:
    """Round trips closed on `day` (UTC; the last 7 days without), of `symbol`, with `outcome`."""
    return await _trades(rt, symbol=symbol, day=day, outcome=outcome)


@api.get(".csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}, **BAD_DAY})
async def trades_csv(rt: RuntimeDep, symbol: Symbol = None, day: Day = None, outcome: Outcome = None):
    """The same round trips as CSV (exact values, times in UTC), for a spreadsheet."""
    found = await _trades(rt, symbol=symbol, day=day, outcome=outcome)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in found["trips"]:
        row = t | {"opened_utc": fmt.utc(t["opened_ns"]), "closed_utc": fmt.utc(t["closed_ns"])}
        writer.writerow([row[k] for k in CSV_COLUMNS])
    name = "trades-" + (found["day"] or "last-7-days") + ".csv"
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@equity_api.get("", response_model=trading.EquityCurve)
async def equity(rt: RuntimeDep, period: Period = "week") -> dict:
    """The wallet's equity over the last `period`: 5-minute samples for a day, hourly for a week or a
    month, daily for a year."""
    return await equity_view.curve(rt.bus.redis, period=period, now_ms=int(time.time() * 1000))
