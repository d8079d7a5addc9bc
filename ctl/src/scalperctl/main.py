"""scalperctl: the operator's command line. What each command reaches:

through Redis, as any client of the platform does (so the same under make run and systemd):
  status                                  the services' heartbeat keys
  safe-mode, reconcile, restart,          a command on sys.control (safe mode also sets its key)
  config reload
  book, market                            the market service's keys
  orders, positions, recovery, order      the execution service's keys; an intent on exec.intents
  jobs, backup now                        the worker's run records; a run_job command on sys.control
on local files, on purpose:
  config check    validates an env file (or the services' one) before anything starts
  hash-password   stdin to a bcrypt hash; no settings, no Redis
  user            the dashboard's SQLite users.db and DATA_DIR/audit.jsonl, with the dashboard's own
                  code: users can be made while the dashboard is down and no password or hash crosses
                  the bus; run it where DATA_DIR is, as the user who owns it
  backup list, verify, restore
                  the backups are files on this host and must be readable while the platform is down
                  (restore refuses while any service heartbeats)
  replay          a recording (or a seed) in, a report in --out; isolated: no Redis, no settings
  deploy          the auto-update's releases and history under /opt/scalper and
                  /var/lib/scalper-deploy; `deploy rollback` runs the updater (root); no settings
over HTTP:
  sim             the simulated exchange's /admin/* REST endpoints (the exchange's stand-in, not on
                  the bus), signed with the services' account
All but config check, hash-password, replay and deploy first read the settings (env file, environment winning)
to find Redis, the simulator or DATA_DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

import redis.asyncio as aioredis

from common import config
from common import constants as c
from common.control import send_control
from common.health import classify
from common.schemas import Command, Heartbeat, Status, decode, now_ns
from scalperctl import backup, deploy, execution, jobs, market, replay, sim, users


def _redis(settings: config.Settings) -> aioredis.Redis:
    return aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)


async def status(settings: config.Settings, as_json: bool) -> int:
    """Every service's status from its heartbeat key; exit 0 only when all five are GREEN."""
    r = _redis(settings)
    try:
        raws = await r.mget([c.heartbeat_key(s) for s in c.SERVICES])
    finally:
        await r.aclose()
    rows, now = [], now_ns()
    for name, raw in zip(c.SERVICES, raws):
        hb = decode(raw) if raw else None
        hb = hb if isinstance(hb, Heartbeat) else None
        st, reason = classify(hb, now_ns=now)
        rows.append({"name": name, "status": st.value, "reason": reason, "pid": hb.pid if hb else None,
                     "safe_mode": hb.safe_mode if hb else None, "version": hb.version if hb else None})
    if as_json:
        print(json.dumps({"services": rows}, indent=2))
    else:
        for row in rows:
            print(f"{row['name']:<10} {row['status']:<7} pid={row['pid'] or '-':<8} "
                  f"safe_mode={row['safe_mode']!s:<5} {row['reason']}")
    return 0 if all(row["status"] == Status.GREEN.value for row in rows) else 1


async def send_command(settings: config.Settings, command: Command, target: str) -> int:
    r = _redis(settings)
    try:
        entry = await send_control(r, command=command, target=target, issued_by=f"scalperctl:{getpass.getuser()}")
    finally:
        await r.aclose()
    print(json.dumps({"command": command.value, "target": target, "entry_id": entry}))
    return 0


def config_check(env_files: list[Path] | None, service: str | None) -> int:
    """Check the settings a program would run with. Several files: the first is the env file the
    services read, each later one goes into the environment and wins over it, as systemd's later
    `EnvironmentFile=` lines do (the deployment's /etc/scalper/<service>.env)."""
    first, *later = env_files or [None]
    try:
        for path in later:
            os.environ.update(config.env_file_values(path))
        settings = config.load(first, service=service)
    except config.ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return config.EX_CONFIG
    print(json.dumps({"config": "ok", "settings": settings.public_view()}, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scalperctl", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("status", help="each service's health; exit 1 unless all are GREEN")
    st.add_argument("--json", action="store_true")
    sm = sub.add_parser("safe-mode", help="hold (on) or release (off) safe mode across the platform")
    sm.add_argument("state", choices=["on", "off"])
    sub.add_parser("reconcile", help="ask the execution service for a reconciliation")
    rs = sub.add_parser("restart", help="stop one service gracefully so that its supervisor starts it again "
                                        "(a service under no supervisor refuses)")
    rs.add_argument("service", choices=c.SERVICES)
    cf = sub.add_parser("config", help="check or hot-reload the configuration")
    cf.add_argument("action", choices=["check", "reload"])
    cf.add_argument("--env-file", type=Path, action="append", default=None,
                    help="the env file to check (default: as services do); repeat it for a service's own file, "
                         "which wins (as a later systemd EnvironmentFile=)")
    cf.add_argument("--service", choices=sorted(config.SERVICE_SECRETS), default=None,
                    help="check as this program: only the secrets it is given are required")
    for name in ("safe-mode", "config"):
        sub.choices[name].add_argument("--target", default="*", help="one service, or * for all")
    replay.add_parser(sub)
    market.add_parser(sub)
    execution.add_parser(sub)
    sim.add_parser(sub)
    users.add_parser(sub)
    jobs.add_parser(sub)
    backup.add_parser(sub)
    deploy.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.cmd == "replay":  # isolated: no settings, no Redis
        raise SystemExit(replay.run(args))
    if args.cmd == "hash-password":  # before any settings: it makes the first admin's
        raise SystemExit(users.hash_command())
    if args.cmd in deploy.COMMANDS:  # local files and the updater: no settings
        raise SystemExit(deploy.run(args))
    if args.cmd == "config" and args.action == "check":
        raise SystemExit(config_check(args.env_file, args.service))
    settings = config.load_or_exit(service="scalperctl")
    if args.cmd in users.COMMANDS:
        raise SystemExit(users.run(args, settings))
    if args.cmd in sim.COMMANDS:
        raise SystemExit(sim.run(args, settings))
    if args.cmd in market.COMMANDS:
        raise SystemExit(market.run(args, settings))
    if args.cmd in execution.COMMANDS:
        raise SystemExit(execution.run(args, settings))
    if args.cmd in jobs.COMMANDS:
        raise SystemExit(jobs.run(args, settings))
    if args.cmd in backup.COMMANDS:
        raise SystemExit(backup.run(args, settings))
    if args.cmd == "status":
        code = asyncio.run(status(settings, args.json))
    elif args.cmd == "safe-mode":
        cmd = Command.SAFE_MODE_ON if args.state == "on" else Command.SAFE_MODE_OFF
        code = asyncio.run(send_command(settings, cmd, args.target))
    elif args.cmd == "reconcile":
        code = asyncio.run(send_command(settings, Command.RECONCILE, c.EXECUTION))
    elif args.cmd == "restart":
        code = asyncio.run(send_command(settings, Command.RESTART, args.service))
    else:
        code = asyncio.run(send_command(settings, Command.RELOAD_CONFIG, args.target))
    raise SystemExit(code)
