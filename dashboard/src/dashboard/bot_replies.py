"""What the Telegram bot says: the overview's figures as short plain-text messages for a phone. /status
(cluster, mode, safe mode and why, execution's state), /pnl (today and this week, realised and
unrealised), /positions (with TP and SL), /alerts (the unacknowledged ones) and the daily summary.

Every figure is read the way the overview reads it (account_view, daily_pnl, round_trips,
platform_state, the monitor and the alert engine) and formatted by dashboard.formatting, so the bot and
the dashboard never disagree. Times are shown in TELEGRAM_TIMEZONE.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from common.lifecycle import Runtime

from dashboard import account_view, daily_pnl, platform_state, round_trips
from dashboard import formatting as fmt
from dashboard.alert_engine import AlertEngine
from dashboard.health_monitor import HealthMonitor

MAX_CHARS = 4000  # the Bot API refuses a message over 4096 characters
ALERTS_LISTED = 10
HELP = ("Commands: /status, /pnl, /positions, /alerts, /safe (enter safe mode; leaving it is a dashboard "
        "action).")
LEAVE_SAFE_REFUSED = ("Refused: leaving safe mode is a dashboard action (the Safe mode page, as an admin). "
                      "/safe only enters it.")


CUT = "\n… (cut, see the dashboard)"


def fit(text: str) -> str:
    """`text` cut to what one Telegram message holds (MAX_CHARS in all), saying so."""
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - len(CUT)] + CUT


class Replies:
    """The bot's answers, each read fresh from where its figures live."""

    def __init__(self, *, rt: Runtime, monitor: HealthMonitor, alerts: AlertEngine) -> None:
        self.redis, self.settings = rt.bus.redis, rt.settings
        self.monitor, self.alerts = monitor, alerts
        self.tz = ZoneInfo(rt.settings.telegram_timezone)

    def local(self, ns: int) -> str:
        """An epoch time in nanoseconds as the operator's wall clock: "2026-12-06 12:30 CET"."""
        return datetime.fromtimestamp(ns / fmt.NS_PER_S, self.tz).strftime("%Y-%m-%d %H:%M %Z")

    async def safe_mode_line(self) -> str:
        """Operator safe mode, and execution's own state with why it holds SAFE."""
        operator = await platform_state.operator_safe_mode(self.redis)
        execution = await platform_state.execution_state(self.redis) or {}
        state = execution.get("state", "unknown (execution has not reported)")
        why = "; ".join((execution.get("holds") or {}).values()) or execution.get("reason", "")
        return (f"Safe mode: {'ON (operator)' if operator else 'off'}\n"
                f"Execution: {state}" + (f" ({why})" if why and state != "NORMAL" else ""))

    async def status(self) -> str:
        """/status: cluster, mode, overall health, safe mode and why, execution's state, each service."""
        snap = self.monitor.snapshot()
        services = ", ".join(f"{s['name']} {s['status']}" + (
            f" ({s['reason']})" if s["status"] != "GREEN" and s["reason"] else "") for s in snap["services"])
        return fit(f"Cluster {snap['cluster']} · mode {snap['mode']} · {snap['overall']}\n"
                   f"{await self.safe_mode_line()}\n"
                   f"Services: {services or 'none seen yet'}\n"
                   f"Alerts unacknowledged: {self.alerts.unacked()}")

    async def pnl(self) -> str:
        """/pnl: today (since 00:00 UTC) and this week (since Monday 00:00 UTC), realised and unrealised."""
        positions = await account_view.positions(self.redis)
        parts = []
        for title, period in (("Today (since 00:00 UTC)", await daily_pnl.today(self.redis)),
                              ("This week (since Monday 00:00 UTC)", await daily_pnl.week(self.redis))):
            f = daily_pnl.figures(period, positions)
            realised = f["realised"] or f"none ({f['no_data']})"
            parts.append(f"{title}\nrealised {realised} USDT, fees {f['fees']}\n"
                         f"unrealised {f['unrealised']} USDT\ntotal {f['total']} USDT")
        return fit("P&L\n" + "\n\n".join(parts))

    async def positions(self) -> str:
        """/positions: side, size, entry, mark, unrealised P&L, TP and SL with their distances."""
        rows = await account_view.positions(self.redis)
        if not rows:
            return "No open position."
        lines = []
        for p in rows:
            d = p["display"]
            tp = d["take_profit"] + (f" ({d['tp_distance']})" if d["tp_distance"] else "")
            sl = d["stop_loss"] + (f" ({d['sl_distance']})" if d["sl_distance"] else "")
            lines.append(f"{p['symbol']} {p['side']} {d['size']} @ {d['entry_price']}\n"
                         f"mark {d['mark_price']} · uPnL {d['unrealised_pnl']} USDT\nTP {tp} · SL {sl}")
        return fit(f"Open positions: {len(rows)}\n\n" + "\n\n".join(lines))

    def alerts_text(self) -> str:
        """/alerts: the unacknowledged alerts, newest first (acknowledging stays a dashboard action)."""
        rows = self.alerts.listing(unacked_only=True)
        if not rows:
            return "No unacknowledged alert."
        lines = [f"[{a['severity']}] {a['title']}" + (f" ×{a['repeats'] + 1}" if a["repeats"] else "")
                 + f"\n{self.local(a['last_ts_ns'] or a['ts_ns'])} · {a['source']}"
                 + (f"\n{a['detail']}" if a["detail"] else "") for a in rows[:ALERTS_LISTED]]
        hidden = len(rows) - ALERTS_LISTED
        more = f"\n\n… and {hidden} more on the dashboard" if hidden > 0 else ""
        return fit(f"Unacknowledged alerts: {len(rows)}\n\n" + "\n\n".join(lines) + more)

    async def summary(self, at: datetime) -> str:
        """The daily summary due at `at`: P&L today (the UTC day, as the overview), the trades closed
        today, equity against the daily-loss limit, open positions, alerts, safe mode."""
        positions = await account_view.positions(self.redis)
        pnl = daily_pnl.figures(await daily_pnl.today(self.redis), positions)
        trips = await round_trips.from_stream(self.redis, since_ms=daily_pnl.day_start_ms(datetime.now(UTC)))
        wins = sum(t["outcome"] == "win" for t in trips)
        net = sum((fmt.dec(t["net_pnl"]) or 0 for t in trips), fmt.dec(0))
        equity = await account_view.equity(self.redis, limit_pct=self.settings.exec_daily_loss_limit_pct)
        e = equity["display"]
        equity_line = (f"Equity {e['equity']} ({e['change']} today, drawdown {e['drawdown']} of the "
                       f"{e['limit']} limit)" if "no_data" not in equity else f"Equity: {equity['no_data']}")
        if equity.get("killed"):
            equity_line += f"\nKill switch TRIPPED: {equity['killed']}"
        return fit(
            f"Daily summary {at.astimezone(self.tz).strftime('%a %Y-%m-%d %H:%M %Z')}\n"
            f"P&L today: realised {pnl['realised'] or '0.00'}, unrealised {pnl['unrealised']}, "
            f"total {pnl['total']} USDT (fees {pnl['fees']})\n"
            f"Trades today: {len(trips)} closed, {wins} won, net {fmt.usdt(net)} USDT\n"
            f"{equity_line}\nOpen positions: {len(positions)}\n"
            f"Alerts unacknowledged: {self.alerts.unacked()}\n{await self.safe_mode_line()}")
