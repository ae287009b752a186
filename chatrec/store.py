"""Persistence: users, sessions, turns, feedback and profiles in SQLite (WAL).

One ``Store`` per process, shared by its threads (one connection behind a lock; SQLite's WAL
lets other processes read while one writes, and ``busy_timeout`` makes a second writer wait
instead of failing). Every write is one transaction: a turn, its session state and the
person's profile are saved together or not at all, so a crash never leaves half a turn.

The schema has a version (``PRAGMA user_version``) and numbered migrations, applied in order
when a store opens; a database written by a newer chatrec is refused, never rewritten.
The URL form (``sqlite:///path``) leaves room for PostgreSQL when several app replicas share
one database (DESIGN.md); only SQLite is implemented.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatrec.types import TurnRecord

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        catalog TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions(user_id, catalog, updated);
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        user_text TEXT NOT NULL,
        bot_text TEXT NOT NULL,
        intent TEXT NOT NULL,
        items TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX turns_by_session ON turns(session_id, id);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL REFERENCES users(id),
        session_id TEXT NOT NULL,
        catalog TEXT NOT NULL,
        item_id TEXT NOT NULL,
        value INTEGER NOT NULL CHECK (value IN (-1, 1)),
        source TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX feedback_by_user ON feedback(user_id, catalog);
    CREATE TABLE profiles (
        user_id TEXT NOT NULL REFERENCES users(id),
        catalog TEXT NOT NULL,
        data TEXT NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (user_id, catalog)
    );
    """,
    # 2: a person's browser proves who they are with a token (only its hash is stored)
    """
    ALTER TABLE users ADD COLUMN token_hash TEXT
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    """The database can't be used (bad URL, newer schema, unreadable file)."""


def sqlite_path(url: str) -> str:
    """``sqlite:///rel/path.db``, ``sqlite:////abs/path.db``, a plain path or ``:memory:``."""
    if url == ":memory:" or url == "sqlite://" or url == "sqlite:///:memory:":
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise StoreError(
            f"database URL scheme {scheme!r} is not supported yet: use sqlite:///PATH "
            "(PostgreSQL for several replicas is planned, see DESIGN.md)"
        )
    return url


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str
    updated: float
    turns: int


class Store:
    """Users, sessions, turns, feedback and profiles, in one SQLite file."""

    def __init__(self, url: str):
        self.url = url
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
            self.migrate()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path}: cannot open the database: {err}") from err

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply the migrations this database lacks, each in its own transaction."""
        with self._lock:
            current = self.version
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the database has schema version {current}, newer than this chatrec "
                    f"({SCHEMA_VERSION}); upgrade chatrec instead of opening it"
                )
            for n in range(current, SCHEMA_VERSION):
                with self.transaction():
                    for statement in MIGRATIONS[n].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {n + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- reads ----------------------------------------------------------------------------
    def _one(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def session_state(self, session_id: str, user: str) -> dict[str, Any] | None:
        """The saved dialogue state of ``user``'s session; None if absent or someone else's."""
        row = self._one("SELECT state FROM sessions WHERE id = ? AND user_id = ?", session_id, user)
        return json.loads(row[0]) if row else None

    def session_owner(self, session_id: str) -> str | None:
        row = self._one("SELECT user_id FROM sessions WHERE id = ?", session_id)
        return row[0] if row else None

    def sessions(self, user: str, catalog: str | None = None) -> list[SessionInfo]:
        """``user``'s sessions, the most recent first."""
        rows = self._all(
            "SELECT s.id, s.title, s.updated, (SELECT COUNT(*) FROM turns t WHERE "
            "t.session_id = s.id) FROM sessions s WHERE s.user_id = ? AND (? IS NULL OR "
            "s.catalog = ?) ORDER BY s.updated DESC",
            user,
            catalog,
            catalog,
        )
        return [SessionInfo(*r) for r in rows]

    def turns(self, session_id: str, user: str) -> list[dict[str, Any]]:
        """The answered turns of ``user``'s session, oldest first ([] if not theirs)."""
        rows = self._all(
            "SELECT t.user_text, t.bot_text, t.intent, t.items, t.created FROM turns t "
            "JOIN sessions s ON s.id = t.session_id WHERE t.session_id = ? AND s.user_id = ? "
            "ORDER BY t.id",
            session_id,
            user,
        )
        return [
            {"user": u, "bot": b, "intent": i, "items": json.loads(it), "created": c}
            for u, b, i, it, c in rows
        ]

    def profile(self, user: str, catalog: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT data FROM profiles WHERE user_id = ? AND catalog = ?", user, catalog
        )
        return json.loads(row[0]) if row else None

    def feedback(self, user: str, catalog: str) -> list[tuple[str, int, str]]:
        """(item id, +1/-1, source) of ``user``'s feedback in ``catalog``, oldest first."""
        rows = self._all(
            "SELECT item_id, value, source FROM feedback WHERE user_id = ? AND catalog = ? "
            "ORDER BY id",
            user,
            catalog,
        )
        return [(i, int(v), s) for i, v, s in rows]

    def user_exists(self, user: str) -> bool:
        return self._one("SELECT 1 FROM users WHERE id = ?", user) is not None

    def check_token(self, user: str, token: str) -> bool:
        """Whether ``token`` is ``user``'s (constant-time compare of SHA-256 hashes)."""
        row = self._one("SELECT token_hash FROM users WHERE id = ?", user)
        if not row or not row[0] or not token:
            return False
        return hmac.compare_digest(row[0], _hash(token))

    # --- writes ---------------------------------------------------------------------------
    def claim(self, user: str, token: str) -> bool:
        """Create ``user`` owned by ``token``; False if the name is already someone's.

        A user created before tokens existed (or by the CLI) is claimed by the first token.
        """
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT token_hash FROM users WHERE id = ?", (user,)).fetchone()
            if row and row[0]:
                return hmac.compare_digest(row[0], _hash(token))
            if row:
                db.execute("UPDATE users SET token_hash = ? WHERE id = ?", (_hash(token), user))
            else:
                db.execute(
                    "INSERT INTO users(id, created, token_hash) VALUES (?, ?, ?)",
                    (user, now, _hash(token)),
                )
            return True

    @staticmethod
    def _user(db: sqlite3.Connection, user: str, now: float) -> None:
        db.execute("INSERT OR IGNORE INTO users(id, created) VALUES (?, ?)", (user, now))

    def save_turn(self, turn: TurnRecord) -> None:
        """Save one answered turn with the session state, feedback and profile it produced,
        in one transaction. A session id owned by another user is refused."""
        user, session_id, catalog = turn.user, turn.session_id, turn.catalog
        user_text, bot_text, intent = turn.message, turn.reply.text, turn.reply.intent
        state, profile = turn.state, turn.profile
        items = turn.reply.to_dict()["items"]
        now = time.time()
        with self.transaction() as db:
            owner = db.execute("SELECT user_id FROM sessions WHERE id = ?", (session_id,))
            row = owner.fetchone()
            if row and row[0] != user:
                raise StoreError("that session belongs to someone else")
            self._user(db, user, now)
            title = (user_text.strip().splitlines() or [""])[0][:80]
            db.execute(
                "INSERT INTO sessions(id, user_id, catalog, title, state, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "state = excluded.state, updated = excluded.updated, "
                "title = CASE WHEN sessions.title = '' THEN excluded.title ELSE sessions.title END",
                (session_id, user, catalog, title, json.dumps(state), now, now),
            )
            db.execute(
                "INSERT INTO turns(session_id, user_text, bot_text, intent, items, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, user_text, bot_text, intent, json.dumps(items), now),
            )
            for f in turn.feedback:
                db.execute(
                    "INSERT INTO feedback(user_id, session_id, catalog, item_id, value, source, "
                    "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (user, session_id, catalog, f.item_id, f.value, f.source, now),
                )
            if profile is not None:
                db.execute(
                    "INSERT INTO profiles(user_id, catalog, data, updated) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(user_id, catalog) DO UPDATE SET data = excluded.data, "
                    "updated = excluded.updated",
                    (user, catalog, json.dumps(profile), now),
                )
