"""The Redis part of a backup: the keys the platform needs to resume, captured as one snapshot.

Captured: the execution store (orders, positions, intents, fills, state, recovery history), the
strategy's risk snapshot and active profile, safe mode, scenario runs, execution-quality sums,
profile versions, the worker's job records and schedule, and the streams that carry decisions and
their outcomes (exec.intents, exec.events, sys.alerts). Market streams are left out: the feed rebuilds
them in seconds and they are most of the bytes.

Consistency: the key names are found by SCAN, then every key's PTTL, DUMP and content are read in one
MULTI/EXEC, so all values come from the same instant (Redis runs a transaction without interleaving).
Each key is stored with a SHA-256 of its content in a canonical form (a hash's fields sorted, a
stream's entries in order, ...). Verification RESTOREs the blob into a throwaway `redis-server` on a
free port and compares every key's content digest there with the stored one. (DUMP bytes themselves
are no proof: a restored hash may iterate in another order and dump differently.)
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import msgspec
import redis

from common import constants as c

KEYS = (
    c.EXEC_ORDERS_KEY, c.EXEC_POSITIONS_KEY, c.EXEC_INTENTS_KEY, c.EXEC_FILLS_KEY, c.EXEC_STATE_KEY,
    c.EXEC_RECOVERY_KEY, c.STRATEGY_RISK_KEY, c.STRATEGY_PROFILE_KEY, c.SAFE_MODE_KEY, c.SCENARIO_RUNS_KEY,
    c.WORKER_JOBS_KEY, c.WORKER_SCHEDULER_JOBS_KEY, c.WORKER_SCHEDULER_TIMES_KEY,
    c.EXEC_INTENTS, c.EXEC_EVENTS, c.SYS_ALERTS,
)
PATTERNS = (c.exec_quality_key("*"), c.profile_versions_key("*"), c.job_runs_key("*"))
SCRATCH_START_S = 10.0  # a throwaway redis-server must answer within this long

Snapshot = list[tuple[bytes, int, bytes, str]]  # (key, pttl ms or 0 for none, DUMP payload, content digest)
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[bytes, int, bytes, str]])
_READ = {  # how to read a key's whole content, by TYPE
    b"string": lambda pipe, k: pipe.get(k),
    b"hash": lambda pipe, k: pipe.hgetall(k),
    b"list": lambda pipe, k: pipe.lrange(k, 0, -1),
    b"set": lambda pipe, k: pipe.smembers(k),
    b"zset": lambda pipe, k: pipe.zrange(k, 0, -1, withscores=True),
    b"stream": lambda pipe, k: pipe.xrange(k, "-", "+"),
}


def digest(kind: bytes, content) -> str:
    """SHA-256 of a key's content in a canonical form (independent of Redis's internal encoding)."""
    if kind == b"hash":
        content = sorted(content.items())
    elif kind == b"set":
        content = sorted(content)
    elif kind == b"stream":
        content = [(entry_id, sorted(fields.items())) for entry_id, fields in content]
    return hashlib.sha256(kind + _encoder.encode(content)).hexdigest()


def _read(r: redis.Redis, names: list[bytes], *, with_dump: bool) -> list[tuple[bytes, int, bytes | None, str]]:
    """(name, pttl, dump or None, digest) of each existing key, all read in one MULTI/EXEC."""
    with r.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.type(name)
        kinds = pipe.execute()
    present = [(n, k) for n, k in zip(names, kinds, strict=True) if k in _READ]
    with r.pipeline(transaction=True) as pipe:
        for name, kind in present:
            pipe.pttl(name)
            pipe.dump(name) if with_dump else pipe.exists(name)
            _READ[kind](pipe, name)
        replies = pipe.execute()
    out = []
    for i, (name, kind) in enumerate(present):
        pttl, payload, content = replies[3 * i:3 * i + 3]
        out.append((name, max(pttl, 0), payload if with_dump else None, digest(kind, content)))
    return out


def capture(r: redis.Redis) -> Snapshot:
    """Every key of KEYS and PATTERNS that exists, with its content digest, read in one transaction."""
    names = [k.encode() for k in KEYS]
    for pattern in PATTERNS:
        names.extend(r.scan_iter(match=pattern, count=1000))
    return [(n, pttl, payload, dig) for n, pttl, payload, dig in _read(r, sorted(set(names)), with_dump=True)
            if payload is not None]


def encode(snap: Snapshot) -> bytes:
    return _encoder.encode(snap)


def decode(blob: bytes) -> Snapshot:
    return _decoder.decode(blob)


def load(r: redis.Redis, snap: Snapshot, *, replace: bool) -> None:
    """RESTORE every key (with its remaining TTL) into `r`, in batches of one round trip each."""
    for start in range(0, len(snap), 500):
        with r.pipeline(transaction=False) as pipe:
            for name, pttl, payload, _digest in snap[start:start + 500]:
                pipe.restore(name, pttl, payload, replace=replace)
            pipe.execute()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def verify_in_scratch(snap: Snapshot, *, redis_server: str = "redis-server") -> int:
    """Load the snapshot into a throwaway redis-server and compare every key; returns the key count.

    Raises ValueError naming the first key whose restored content differs, or that is missing.
    """
    binary = shutil.which(redis_server)
    if binary is None:
        raise RuntimeError(f"{redis_server} not found: cannot prove the Redis part restores")
    with tempfile.TemporaryDirectory(prefix="scalper-verify-") as scratch:
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", scratch, "--logfile", str(Path(scratch) / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_timeout=30)
        try:
            _wait_ping(client, proc)
            load(client, snap, replace=False)
            if client.dbsize() != len(snap):
                raise ValueError(f"restored {client.dbsize()} keys, the backup holds {len(snap)}")
            restored = {name: dig for name, _, _, dig in _read(client, [n for n, *_ in snap], with_dump=False)}
            for name, _pttl, _payload, want in snap:
                if restored.get(name) != want:
                    raise ValueError(f"key {name.decode()!r} differs after restore")
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=10)
    return len(snap)


def _wait_ping(client: redis.Redis, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + SCRATCH_START_S
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the scratch redis-server did not start") from None
            time.sleep(0.05)
