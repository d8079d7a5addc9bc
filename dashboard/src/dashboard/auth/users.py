"""Dashboard users: the env file's admin plus further users with roles in SQLite (bcrypt hashes).

No web imports here: `scalperctl user ...` manages the same table.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import bcrypt
from common.config import Settings

# Compared against when the user does not exist, so an unknown name costs as long as a wrong password.
# (a cost-12 hash of a throwaway string; an unknown user never logs in whatever the check says).
_DUMMY_HASH = b"$2b$12$dtC6Xl5lSqvtGVlm0X.xduuGkZ7ErYRu1GZXbMFrogzruPsck7LW2"


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"  # may act: safe mode, reconcile, acknowledge, reload, switch profile
    VIEWER = "viewer"  # reads everything, acts on nothing


@dataclass(frozen=True)
class User:
    """A user as the dashboard knows them on a request."""

    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """May act, not only read."""
        return self.role is Role.ADMIN


def hash_password(password: str) -> str:
    """A bcrypt hash (cost 12) as the env file and users.db store it."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def _check(password: str, hashed: str | None) -> bool:
    """bcrypt's check, against a dummy hash when there is none, so it takes as long either way."""
    try:
        return bcrypt.checkpw(password.encode(), (hashed or "").encode() or _DUMMY_HASH)
    except ValueError:  # a malformed stored hash never matches
        return False


class UserStore:
    """The users table in `settings.users_db`; the env admin is checked first and cannot be edited here."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = settings.users_db
        self.admin_name = settings.admin_username
        self.admin_hash = settings.admin_password_hash.get_secret_value()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL,"
                " role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')))"
            )

    def _db(self) -> sqlite3.Connection:
        """A connection to users.db (each call its own: sqlite3 connections stay in their thread)."""
        return sqlite3.connect(self.path, timeout=5)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None (in about the same time either way)."""
        if self.admin_hash and name == self.admin_name:
            return User(name, Role.ADMIN) if _check(password, self.admin_hash) else None
        with self._db() as db:
            row = db.execute("SELECT hash, role FROM users WHERE name = ?", (name,)).fetchone()
        ok = _check(password, row[0] if row else None)
        return User(name, Role(row[1])) if ok and row else None

    def get(self, name: str) -> User | None:
        """The user named `name` with their current role, or None when there is none (any more)."""
        if self.admin_hash and name == self.admin_name:
            return User(name, Role.ADMIN)
        with self._db() as db:
            row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        return User(name, Role(row[0])) if row else None

    def add(self, *, name: str, password: str, role: Role) -> None:
        """Raises ValueError when the name is taken (or is the env file's admin)."""
        if name == self.admin_name:
            raise ValueError(f"{name} is ADMIN_USERNAME; change it in the env file")
        try:
            with self._db() as db:
                db.execute("INSERT INTO users VALUES (?, ?, ?)", (name, hash_password(password), role.value))
        except sqlite3.IntegrityError:
            raise ValueError(f"user {name} exists") from None

    def set_password(self, *, name: str, password: str) -> None:
        """Raises ValueError when there is no such user."""
        with self._db() as db:
            if (
                db.execute(
                    "UPDATE users SET hash = ? WHERE name = ?", (hash_password(password), name)
                ).rowcount
                == 0
            ):
                raise ValueError(f"no user {name}")

    def set_role(self, *, name: str, role: Role) -> None:
        """Raises ValueError when there is no such user."""
        with self._db() as db:
            if db.execute("UPDATE users SET role = ? WHERE name = ?", (role.value, name)).rowcount == 0:
                raise ValueError(f"no user {name}")

    def remove(self, name: str) -> None:
        """Raises ValueError when there is no such user."""
        with self._db() as db:
            if db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise ValueError(f"no user {name}")

    def names(self) -> list[tuple[str, str]]:
        """(name, role) of each user in the table, by name (the env admin is not in it)."""
        with self._db() as db:
            return db.execute("SELECT name, role FROM users ORDER BY name").fetchall()
