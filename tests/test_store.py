"""SQLite persistence: migrations, atomic turns, isolation between people, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from chatrec.store import SCHEMA_VERSION, Store, StoreError, sqlite_path
from chatrec.types import Feedback, Reply, TurnRecord


def _turn(
    store: Store,
    user: str,
    sid: str,
    text: str,
    profile: dict | None = None,
    feedback: list[tuple[str, int, str]] = (),
) -> None:
    reply = Reply(f"re: {text}", "recommend")
    store.save_turn(
        TurnRecord(
            user,
            sid,
            "store",
            {"session_id": sid},
            text,
            reply,
            profile,
            tuple(Feedback(*f) for f in feedback),
        )
    )


def test_a_new_database_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'chatrec.db'}"
    s = Store(url)
    assert s.version == SCHEMA_VERSION
    assert s._one("PRAGMA journal_mode")[0] == "wal"
    _turn(s, "ann", "s1", "hello")
    s.close()
    again = Store(url)  # reopening keeps the data and does not migrate twice
    assert again.version == SCHEMA_VERSION and len(again.turns("s1", "ann")) == 1


def test_a_newer_schema_is_refused_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="newer than this chatrec"):
        Store(str(path))
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 99


def test_urls() -> None:
    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    assert sqlite_path("sqlite:///rel/x.db") == "rel/x.db"
    assert sqlite_path(":memory:") == ":memory:"
    with pytest.raises(StoreError, match=r"postgresql.*not supported yet"):
        sqlite_path("postgresql://db/chatrec")


def test_people_never_see_each_others_sessions(tmp_path: Path) -> None:
    s = Store(str(tmp_path / "x.db"))
    _turn(s, "ann", "a1", "a tv")
    _turn(s, "bob", "b1", "a laptop")
    assert s.session_state("a1", "bob") is None and s.turns("a1", "bob") == []
    assert [x.id for x in s.sessions("bob")] == ["b1"]
    # Bob writing into Ann's session id is refused and changes nothing.
    with pytest.raises(StoreError, match="belongs to someone else"):
        _turn(s, "bob", "a1", "hijack", profile={"liked": ["x"]})
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv"]
    assert s.profile("bob", "store") is None


def test_a_turn_its_feedback_and_profile_commit_together(tmp_path: Path) -> None:
    s = Store(str(tmp_path / "x.db"))
    _turn(s, "ann", "a1", "a tv", profile={"liked": []})
    with pytest.raises(sqlite3.IntegrityError):  # value must be -1 or 1: the whole turn rolls back
        _turn(s, "ann", "a1", "bad", feedback=[("tv1", 5, "button")], profile={"liked": ["tv1"]})
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv"]
    assert s.profile("ann", "store") == {"liked": []} and s.feedback("ann", "store") == []


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    url = str(tmp_path / "x.db")
    stores = [Store(url) for _ in range(2)]  # two connections, as two processes would have

    def chat(n: int) -> None:
        for k in range(15):
            _turn(stores[n % 2], f"user{n}", f"s{n}", f"message {k}", feedback=[("i", 1, "b")])

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = Store(url)
    for n in range(8):
        turns = check.turns(f"s{n}", f"user{n}")
        assert [t["user"] for t in turns] == [f"message {k}" for k in range(15)]
        assert len(check.feedback(f"user{n}", "store")) == 15


def test_an_older_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    from chatrec.store import MIGRATIONS

    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO users(id, created) VALUES ('ann', 0)")
    db.execute(
        "INSERT INTO sessions(id, user_id, catalog, state, created, updated) "
        "VALUES ('s1', 'ann', 'store', '{}', 0, 0)"
    )
    db.commit()
    db.close()
    s = Store(str(path))
    assert s.version == SCHEMA_VERSION >= 2
    assert s.session_state("s1", "ann") == {}
    # the user from before tokens existed is claimed by the first browser that signs in
    assert s.claim("ann", "token-a") and s.check_token("ann", "token-a")
    assert not s.claim("ann", "token-b") and not s.check_token("ann", "token-b")
