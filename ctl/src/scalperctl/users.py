"""`scalperctl user add|passwd|role|remove|list|unlock` (dashboard users in SQLite, their login lockouts in
Redis) and `scalperctl hash-password`.

Passwords are read from the terminal (twice) or, when stdin is not a terminal, from its first line,
never from the command line (it would land in the shell history and the process list). Every change
(done or refused) goes to the dashboard's audit log under the OS user's name, client "cli".
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

import redis.asyncio as aioredis
from dashboard.auth.audit import Audit
from dashboard.auth.session_store import SessionStore
from dashboard.auth.throttle import Throttle
from dashboard.auth.users import Role, UserStore, hash_password

from common import config

COMMANDS = ("user",)  # hash-password runs before any settings are read: see hash_command
MIN_PASSWORD = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    us = subparsers.add_parser("user", help="manage dashboard users (SQLite users.db; roles admin or viewer)")
    us.add_argument("action", choices=["add", "passwd", "role", "remove", "list", "unlock"])
    us.add_argument("name", nargs="?")
    us.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value)
    subparsers.add_parser("hash-password", help="print a bcrypt hash for ADMIN_PASSWORD_HASH in the env file")


def read_password() -> str:
    """From the terminal, asked twice; else the first line of stdin. Exits 2 when too short or different."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("the two passwords differ")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < MIN_PASSWORD:
        print(f"a password needs at least {MIN_PASSWORD} characters", file=sys.stderr)
        raise SystemExit(2)
    return first


def hash_command() -> int:
    """No settings needed: this is how the first admin gets into the env file."""
    print(hash_password(read_password()))
    return 0


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    """`scalperctl user ...` on the dashboard's users.db, audited; `hash-password` is main's (no settings)."""
    store = UserStore(settings)
    if args.action == "list":
        for name, role in store.names():
            print(f"{name}\t{role}")
        return 0
    if not args.name:
        print("a user name is required", file=sys.stderr)
        return 2
    try:
        audit = Audit(settings.data_dir)  # before any change: a change that cannot be audited is not made
    except OSError as e:
        print(f"cannot write the audit log in {settings.data_dir}: {e}", file=sys.stderr)
        return 1
    action = f"user {args.action} {args.name}" + (f" ({args.role})" if args.action in ("add", "role") else "")
    try:
        if args.action == "unlock":
            cleared = asyncio.run(_unlock(settings, args.name))
            audit.record(user=_os_user(), action=action, client="cli", outcome="ok",
                         detail=f"{cleared} records")
            print(f"user {args.name}: {cleared} lockout records cleared")
            return 0
        if args.action == "add":
            store.add(name=args.name, password=read_password(), role=Role(args.role))
        elif args.action == "passwd":
            store.set_password(name=args.name, password=read_password())
        elif args.action == "role":
            store.set_role(name=args.name, role=Role(args.role))
        else:
            store.remove(args.name)
    except ValueError as e:
        audit.record(user=_os_user(), action=action, client="cli", outcome="refused", detail=str(e))
        print(str(e), file=sys.stderr)
        return 1
    ended = 0 if args.action == "add" else asyncio.run(_end_sessions(settings, args.name))
    audit.record(user=_os_user(), action=action, client="cli", outcome="ok", detail=f"{ended} sessions ended")
    print(f"user {args.name}: {args.action} done ({store.path})")
    return 0


def _os_user() -> str:
    """Who ran the command; a uid when the system has no name for it (e.g. a container's random uid)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _redis(settings: config.Settings) -> aioredis.Redis:
    return aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)


async def _unlock(settings: config.Settings, name: str) -> int:
    """Lift the login lockouts of `name` (and of the addresses it was locked from) in Redis."""
    r = _redis(settings)
    try:
        throttle = Throttle(r, max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s,
                            user_interval_s=settings.login_user_interval_s)
        return await throttle.unlock(name)
    finally:
        await r.aclose()


async def _end_sessions(settings: config.Settings, name: str) -> int:
    """End every dashboard session of `name` after a password or role change or its removal."""
    r = _redis(settings)
    try:
        return await SessionStore(r, ttl_s=settings.session_ttl_s).end_user(name)
    finally:
        await r.aclose()
