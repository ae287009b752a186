"""The store on SQLite and PostgreSQL: migrations, safe opening, atomic turns, isolation
between people, names and credentials, guests, concurrency from several Store objects (as
several processes or replicas would have)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from chatrec.store import (
    DIALECTS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    StoreWriteError,
    Tx,
    apply_migration,
    parse_url,
    redact,
    sqlite_path,
)
from chatrec.types import Feedback, Reply, TurnRecord


def _turn(
    store: Store,
    user: str,
    sid: str,
    text: str,
    profile: dict | None = None,
    feedback: list[tuple[str, int, str]] = (),
    **kwargs: object,
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
        ),
        **kwargs,
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _connect(url: str) -> tuple[object, Tx]:
    """A raw connection outside the Store, to build or inspect a database as it is on disk."""
    engine, target = parse_url(url)
    if engine == "sqlite":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, isolation_level=None)
    else:
        conn = psycopg.connect(target, autocommit=True)
    return conn, Tx(conn, DIALECTS[engine])


def _old_database(url: str, inserts: list[str], version: int = 2) -> None:
    """A database as an older chatrec left it: migrations 1-2, some rows, ``version``."""
    conn, tx = _connect(url)
    for n in range(2):
        apply_migration(tx, n)
    for sql in inserts:
        tx.execute(sql)
    if tx.dialect.name == "sqlite":
        tx.execute(f"PRAGMA user_version = {version}")
    else:
        tx.script(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);"
            f"INSERT INTO schema_version VALUES ({version})"
        )
    conn.close()


def _snapshot(url: str) -> object:
    """Everything a refused open could have changed: a SQLite file's bytes, or a PostgreSQL
    database's tables, version and rows."""
    engine, target = parse_url(url)
    if engine == "sqlite":
        # A reader of a WAL-mode file opens its -shm/-wal side files (SQLite's own index of
        # the log): allowed, as long as the log stays empty.
        wal = Path(target + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        return hashlib.sha256(Path(target).read_bytes()).hexdigest()
    conn, tx = _connect(url)
    tables = tx.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "ORDER BY table_name"
    ).fetchall()
    version = tx.execute("SELECT version FROM schema_version").fetchall()
    users = tx.execute("SELECT * FROM users ORDER BY id").fetchall()
    conn.close()
    return tables, version, users


# --- opening, migrations, refusals --------------------------------------------------------
def test_a_new_database_is_migrated_and_reopens_with_its_data(db_url: str) -> None:
    s = Store(db_url)
    assert s.version == SCHEMA_VERSION
    _turn(s, "ann", "s1", "hello")
    s.close()
    again = Store(db_url)  # reopening keeps the data and does not migrate twice
    assert again.version == SCHEMA_VERSION and len(again.turns("s1", "ann")) == 1
    with pytest.raises(StoreError, match="closed"):
        s.sessions("ann")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'db' / 'chatrec.db'}")
    assert s._one("PRAGMA journal_mode")[0] == "wal"


def test_a_newer_schema_is_refused_and_left_byte_for_byte_unchanged(db_url: str) -> None:
    _old_database(db_url, ["INSERT INTO users(id, created) VALUES ('ann', 0)"], version=99)
    before = _snapshot(db_url)
    with pytest.raises(StoreError, match="schema version 99, newer than this chatrec"):
        Store(db_url)
    assert _snapshot(db_url) == before


def _real_database_with_rows(path: Path) -> None:
    s = Store(str(path))
    for k in range(200):
        _turn(s, "ann", f"s{k % 5}", f"message {k} " + "words " * 40, profile={"liked": []})
    s.close()


def test_a_damaged_sqlite_file_is_refused_naming_it_and_not_modified(tmp_path: Path) -> None:
    path = tmp_path / "chatrec.db"
    _real_database_with_rows(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) // page > 10  # a real file of many pages, its header intact
    middle = (len(data) // page // 2) * page - page // 2  # the end of one page, head of next
    data[middle : middle + page] = bytes((i * 131 + 7) % 256 for i in range(page))
    path.write_bytes(bytes(data))
    before = _snapshot(f"sqlite:///{path}")
    with pytest.raises(StoreError, match=rf"{path}: the database is damaged") as err:
        Store(str(path))
    assert "\n" not in str(err.value)
    assert _snapshot(f"sqlite:///{path}") == before


def test_a_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my shopping list\n" * 500)
    with pytest.raises(StoreError, match=rf"{path}: not a usable chatrec database"):
        Store(str(path))
    assert path.read_text() == "my shopping list\n" * 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_an_older_database_is_migrated_and_keeps_everything(db_url: str) -> None:
    bob_token = hashlib.sha256(b"bob-browser").hexdigest()
    _old_database(
        db_url,
        [
            f"INSERT INTO users(id, created, token_hash) VALUES ('Bob', 1, '{bob_token}')",
            "INSERT INTO users(id, created) VALUES ('bob', 2)",  # same name but for case
            "INSERT INTO users(id, created) VALUES ('cli', 3)",  # made by `chatrec ask --user`
            "INSERT INTO sessions(id, user_id, catalog, state, created, updated) "
            "VALUES ('s1', 'bob', 'store', '{}', 2, 2)",
            "INSERT INTO turns(session_id, user_text, bot_text, intent, items, created) "
            "VALUES ('s1', 'a tv', 'here', 'recommend', '[]', 2)",
        ],
    )
    s = Store(db_url)
    assert s.version == SCHEMA_VERSION >= 3
    # the older Bob holds the name; the later bob keeps his data and his chat
    assert s.find_user("BOB") == "Bob" and s.user_exists("bob")
    assert [t["user"] for t in s.turns("s1", "bob")] == ["a tv"]
    assert s.check_token("Bob", "bob-browser") and s.claim("bOB", "bob-browser") == "ok"
    assert s.claim("bob", "someone-else") == "taken"
    # a name made without a credential can't be taken by the first visitor any more
    assert s.claim("cli", "visitor") == "no-credential" and not s.check_token("cli", "visitor")
    assert s.stats()["users"] == 3


def test_replicas_starting_together_migrate_once(db_url: str) -> None:
    stores: list[Store] = []
    errors: list[Exception] = []

    def start() -> None:
        try:
            stores.append(Store(db_url))
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 4
    assert {s.version for s in stores} == {SCHEMA_VERSION}
    _turn(stores[0], "ann", "s1", "hello")
    assert [t["user"] for t in stores[3].turns("s1", "ann")] == ["hello"]


def test_urls() -> None:
    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    assert sqlite_path("sqlite:///rel/x.db") == "rel/x.db"
    assert sqlite_path(":memory:") == ":memory:"
    assert parse_url("data/x.db") == ("sqlite", "data/x.db")
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"):
        assert parse_url(url) == ("postgresql", "postgresql://u@h/db")
    with pytest.raises(StoreError, match=r"'mysql' is not supported: use sqlite.*postgresql"):
        parse_url("mysql://db/chatrec")
    assert redact("postgresql://ann:s3cret@db:5432/chat") == "postgresql://ann:***@db:5432/chat"


def test_an_unreachable_server_is_one_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as err:
        Store("postgresql://ann:s3cret@127.0.0.1:1/chatrec")
    assert "s3cret" not in str(err.value) and "ann:***@" in str(err.value)


# --- turns ----------------------------------------------------------------------------------
def test_people_never_see_each_others_sessions(db_url: str) -> None:
    s = Store(db_url)
    _turn(s, "ann", "a1", "a tv")
    _turn(s, "bob", "b1", "a laptop")
    assert s.session_state("a1", "bob") is None and s.turns("a1", "bob") == []
    assert [x.id for x in s.sessions("bob")] == ["b1"]
    assert [x.id for x in s.sessions("ann", "store")] == ["a1"] and s.sessions("ann", "x") == []
    # Bob writing into Ann's session id is refused and changes nothing.
    with pytest.raises(StoreWriteError, match="belongs to someone else"):
        _turn(s, "bob", "a1", "hijack", profile={"liked": ["x"]})
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv"]
    assert s.profile("bob", "store") is None


def test_a_failed_write_raises_and_stores_nothing_of_the_turn(db_url: str) -> None:
    s = Store(db_url)
    _turn(s, "ann", "a1", "a tv", profile={"liked": []})
    before = s.stats()
    with pytest.raises(StoreWriteError, match="the write failed and nothing of it was saved"):
        # a feedback value must be -1 or 1: the whole turn rolls back
        _turn(s, "ann", "a1", "bad", feedback=[("tv1", 5, "button")], profile={"liked": ["tv1"]})
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv"]
    assert s.profile("ann", "store") == {"liked": []} and s.feedback("ann", "store") == []
    assert s.stats() == before
    _turn(s, "ann", "a1", "and a soundbar")  # the store keeps working
    assert len(s.turns("a1", "ann")) == 2


def test_a_full_disk_fails_the_write_loudly(tmp_path: Path) -> None:
    s = Store(str(tmp_path / "x.db"))
    _turn(s, "ann", "a1", "a tv")
    pages = s._one("PRAGMA page_count")[0]
    s._one(f"PRAGMA max_page_count = {pages}")  # as if the disk were full
    with pytest.raises(StoreWriteError, match="database or disk is full"):
        _turn(s, "ann", "a1", "long " * 5000, profile={"liked": ["a"]})
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv"]
    assert s.profile("ann", "store") is None


def test_a_lost_postgresql_connection_is_made_again(postgres_url: str) -> None:
    s = Store(postgres_url)
    _turn(s, "ann", "a1", "a tv")
    conn, tx = _connect(postgres_url)  # the server drops every other connection (a restart)
    tx.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    conn.close()
    assert [x.id for x in s.sessions("ann")] == ["a1"]  # a read reconnects
    _turn(s, "ann", "a1", "a soundbar")
    assert [t["user"] for t in s.turns("a1", "ann")] == ["a tv", "a soundbar"]


def test_concurrent_writers_lose_nothing(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(2)]  # two connections, as two replicas would have

    def chat(n: int) -> None:
        for k in range(15):
            _turn(stores[n % 2], f"user{n}", f"s{n}", f"message {k}", feedback=[("i", 1, "b")])

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = Store(db_url)
    for n in range(8):
        turns = check.turns(f"s{n}", f"user{n}")
        assert [t["user"] for t in turns] == [f"message {k}" for k in range(15)]
        assert len(check.feedback(f"user{n}", "store")) == 15
    assert check.stats()["turns"] == 120


def _race(stores: list[Store], act: Callable[[Store, int], object]) -> list[object]:
    """Run ``act`` on each store at once; the results (or exceptions) in store order."""
    out: list[object] = [None] * len(stores)
    start = threading.Barrier(len(stores))

    def run(n: int) -> None:
        start.wait()
        try:
            out[n] = act(stores[n], n)
        except Exception as err:
            out[n] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_two_replicas_racing_for_one_session_leave_it_to_one(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(4)]
    for round_ in range(5):
        sid = f"shared-{round_}"
        out = _race(stores, lambda s, n, sid=sid: _turn(s, f"p{n}", sid, f"mine {n}"))
        winners = [n for n, r in enumerate(out) if r is None]
        assert len(winners) == 1, out
        assert all(isinstance(r, StoreWriteError) for r in out if r is not None)
        owner = stores[0].session_owner(sid)
        assert owner == f"p{winners[0]}"
        assert [t["user"] for t in stores[0].turns(sid, owner)] == [f"mine {winners[0]}"]


def test_two_replicas_racing_for_one_new_name_give_it_to_one(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(4)]
    for round_ in range(5):
        name = f"Zoe{round_}"
        out = _race(
            stores, lambda s, n, name=name: s.claim(name if n % 2 else name.upper(), f"t{n}")
        )
        assert sorted(out) == ["ok", "taken", "taken", "taken"], out
        winner = out.index("ok")
        assert stores[0].check_token(stores[0].find_user(name), f"t{winner}")


# --- names and credentials -----------------------------------------------------------------
def test_claim_outcomes(db_url: str) -> None:
    s = Store(db_url)
    assert s.claim("ann", "ann-browser") == "ok"  # new: created, owned by the token
    assert s.claim("ann", "ann-browser") == "ok"  # the token proves it
    assert s.claim("ann", "intruder") == "taken"
    _turn(s, "cli", "c1", "made by `chatrec ask --user cli`")  # a person without credential
    assert s.claim("cli", "first-visitor") == "no-credential"
    assert s.claim("cli", "first-visitor") == "no-credential"  # and it stays so
    assert not s.check_token("cli", "first-visitor")
    s.set_password("cli", "correct horse")
    assert s.claim("cli", "first-visitor") == "taken"
    with pytest.raises(ValueError, match="token"):
        s.claim("bob", "")
    assert not s.user_exists("bob")


def test_names_are_one_person_whatever_their_case(db_url: str) -> None:
    s = Store(db_url)
    assert s.claim("Bob", "b1") == "ok" and s.find_user("bob") == "Bob"
    assert s.find_user("BOB") == "Bob" and s.find_user("Ann") is None
    assert s.claim("bob", "b2") == "taken" and s.claim("BOB", "b1") == "ok"
    assert s.check_token("Bob", "b1")
    with pytest.raises(ValueError, match="already taken"):
        s.add_user("bOB")
    with pytest.raises(StoreWriteError, match="belongs to someone else"):
        _turn(s, "bob", "x1", "a second Bob by the back door")
    with pytest.raises(StoreWriteError, match="must not be empty"):
        _turn(s, "  ", "x2", "a name of spaces")
    assert s.stats()["users"] == 1 and s.stats()["sessions"] == 0
    # Unicode case folding, not ASCII lower(): "STRASSE" and "straße" are one name
    assert s.claim("straße", "t") == "ok" and s.find_user("STRASSE") == "straße"


def test_a_token_per_browser(db_url: str) -> None:
    s = Store(db_url)
    assert s.claim("ann", "laptop") == "ok"
    s.set_password("ann", "correct horse")
    phone = s.login("ANN", "correct horse")
    assert phone and phone != "laptop"
    assert s.check_token("ann", "laptop") and s.check_token("ann", phone)
    assert not s.check_token("ann", "tablet") and not s.check_token("bob", phone)
    assert s.claim("ann", phone) == "ok"
    assert s.stats()["tokens"] == 2


def test_login(db_url: str) -> None:
    s = Store(db_url)
    assert s.set_password("Ann", "correct horse") == "Ann"
    token = s.login("ann", "correct horse")
    assert token is not None and len(token) >= 32 and s.check_token("Ann", token)
    assert s.login("ann", "wrong horse") is None
    assert s.login("nobody", "correct horse") is None
    _turn(s, "cli", "c1", "hi")
    assert s.login("cli", "") is None  # no password set: nothing matches
    assert s.stats()["tokens"] == 1


def test_set_password(db_url: str) -> None:
    s = Store(db_url)
    with pytest.raises(ValueError, match="at least 8 characters"):
        s.set_password("ann", "short")
    assert s.find_user("ann") is None  # refused: nothing created
    assert s.set_password("ann", "first password") == "ann"
    assert s.set_password("ANN", "second password") == "ann"  # replaced, the stored id kept
    assert s.login("ann", "first password") is None and s.login("ann", "second password")
    stored = s._one("SELECT password_hash FROM users WHERE id = 'ann'")[0]
    assert stored.startswith("scrypt$16384$8$1$") and len(stored.split("$")) == 6
    assert "second" not in stored
    with pytest.raises(ValueError, match="must not be empty"):
        s.set_password("  ", "long enough")


def test_the_secret_is_made_once_and_shared_by_every_replica(db_url: str) -> None:
    a, b = Store(db_url), Store(db_url)
    secret = a.secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    assert b.secret() == secret and Store(db_url).secret() == secret


def test_two_databases_have_different_secrets(tmp_path: Path) -> None:
    assert Store(str(tmp_path / "a.db")).secret() != Store(str(tmp_path / "b.db")).secret()


def test_a_token_in_use_marks_its_person_seen_at_most_every_few_minutes(db_url: str) -> None:
    clock = Clock()
    s = Store(db_url, clock=clock)
    s.claim("ann", "t")
    seen = "SELECT last_seen FROM users WHERE id = 'ann'"
    assert s._one(seen)[0] == clock.now
    start = clock.now
    clock.now += 60
    assert s.check_token("ann", "t") and s._one(seen)[0] == start  # no write for a minute
    clock.now += 600
    assert s.check_token("ann", "t") and s._one(seen)[0] == clock.now


# --- guests and stats ----------------------------------------------------------------------
def test_a_guest_is_written_with_their_first_answered_message(db_url: str) -> None:
    s = Store(db_url)
    token_hash = hashlib.sha256(b"guest-token").hexdigest()
    _turn(s, "guest-1a2b", "g1", "a tv", guest=True, token_hash=token_hash)
    assert s.check_token("guest-1a2b", "guest-token")
    assert s.stats()["guests"] == 1 and s.stats()["users"] == 0
    # the token hash is a credential only for a row the turn creates: never a way in
    _turn(s, "guest-1a2b", "g1", "more", guest=True, token_hash=hashlib.sha256(b"x").hexdigest())
    assert not s.check_token("guest-1a2b", "x")
    _turn(s, "guest-ann", "a1", "hi", guest=True)
    s.set_password("guest-ann", "long enough")  # a guest who sets a password becomes a person
    _turn(s, "guest-ann", "a1", "again", guest=True)  # and a later turn never demotes her
    assert s.stats()["guests"] == 1 and s.stats()["users"] == 1
    _turn(s, "ann", "a2", "a person's turn")
    assert s.stats()["users"] == 2


def test_prune_removes_only_idle_guests_and_everything_of_theirs(db_url: str) -> None:
    clock = Clock()
    s = Store(db_url, clock=clock)
    day = 86400.0
    s.claim("ann", "ann-token")
    _turn(s, "ann", "a1", "a tv", profile={"liked": ["1"]}, feedback=[("1", 1, "button")])
    _turn(
        s,
        "guest-old",
        "g1",
        "a tv",
        {"liked": []},
        [("2", -1, "b")],
        guest=True,
        token_hash="ab" * 32,
    )
    _turn(s, "guest-old", "g2", "a laptop", guest=True)
    clock.now += 40 * day
    _turn(s, "guest-new", "g3", "headphones", guest=True)
    assert s.stats() == {
        "users": 1, "guests": 2, "sessions": 4, "turns": 4, "feedback": 2, "profiles": 2,
        "tokens": 2,
    }  # fmt: skip
    removed = s.prune_guests(30 * day)  # ann has been idle 40 days too: she is no guest
    assert removed == {
        "users": 1, "sessions": 2, "turns": 2, "feedback": 1, "profiles": 1, "tokens": 1,
    }  # fmt: skip
    assert s.stats() == {
        "users": 1, "guests": 1, "sessions": 2, "turns": 2, "feedback": 1, "profiles": 1,
        "tokens": 1,
    }  # fmt: skip
    assert s.turns("a1", "ann") and s.feedback("ann", "store") == [("1", 1, "button")]
    assert s.check_token("ann", "ann-token") and not s.user_exists("guest-old")
    assert [t["user"] for t in s.turns("g3", "guest-new")] == ["headphones"]
    assert s.prune_guests(30 * day)["users"] == 0
    with pytest.raises(ValueError, match="finite number"):
        s.prune_guests(float("nan"))


def test_a_pruned_guest_who_comes_back_starts_afresh(db_url: str) -> None:
    clock = Clock()
    s = Store(db_url, clock=clock)
    _turn(s, "guest-x", "g1", "a tv", guest=True)
    clock.now += 1000
    assert s.prune_guests(10)["users"] == 1
    _turn(s, "guest-x", "g1", "hello again", guest=True)
    assert [t["user"] for t in s.turns("g1", "guest-x")] == ["hello again"]


# --- the command line: chatrec db stats / db prune, chatrec user set-password ---------------
def _cli(*args: str, stdin: str | None = None) -> object:
    from typer.testing import CliRunner

    from chatrec.cli import app

    return CliRunner().invoke(app, list(args), input=stdin)


def test_cli_sets_a_password_from_stdin_or_a_hidden_prompt(db_url: str) -> None:
    done = _cli("user", "set-password", "Ann", "--db", db_url, "--password-stdin", stdin="short\n")
    assert done.exit_code == 2 and done.stderr == "error: a password needs at least 8 characters\n"
    assert Store(db_url).find_user("ann") is None  # refused: nothing written
    done = _cli(
        "user", "set-password", "Ann", "--db", db_url, "--password-stdin", stdin="pass word\n"
    )
    assert done.exit_code == 0 and done.stdout.startswith("password set for Ann in ")
    assert "pass word" not in done.stdout
    # the prompt hides what is typed and asks twice; a mismatch is asked again
    typed = "new secret\nnew secert\nnew secret\nnew secret\n"
    done = _cli("user", "set-password", "ANN", "--db", db_url, stdin=typed)
    assert done.exit_code == 0 and "password set for Ann" in done.stdout
    assert "new secret" not in done.stdout and "do not match" in done.output
    store = Store(db_url)
    assert store.login("ann", "pass word") is None and store.login("ann", "new secret")


def test_cli_prints_stats_and_prunes_idle_guests(db_url: str) -> None:
    clock = Clock(1_000_000.0)  # long ago
    s = Store(db_url, clock=clock)
    _turn(s, "guest-1", "g1", "a tv", guest=True)
    _turn(s, "ann", "a1", "a laptop")
    done = _cli("db", "stats", "--db", db_url, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {
        "users": 1, "guests": 1, "sessions": 2, "turns": 2, "feedback": 0, "profiles": 0,
        "tokens": 0,
    }  # fmt: skip
    table = _cli("db", "stats", "--db", db_url).stdout.splitlines()
    assert table[0].split() == ["users", "1"] and len(table) == 7
    done = _cli("db", "prune", "--days", "30", "--db", db_url)
    assert done.exit_code == 0
    assert done.stdout.startswith("removed 1 guests idle over 30 days (1 sessions, 1 turns")
    assert Store(db_url).stats()["guests"] == 0 and Store(db_url).turns("a1", "ann")


def test_cli_database_errors_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    done = _cli("db", "stats", "--db", str(missing))
    assert (
        done.exit_code == 2 and done.stderr == f"error: {missing}: no database there (check --db)\n"
    )
    assert not missing.exists()  # stats never creates a database
    done = _cli("db", "prune", "--db", "postgresql://ann:s3cret@127.0.0.1:1/x")
    assert done.exit_code == 2 and len(done.stderr.splitlines()) == 1
    assert "s3cret" not in done.stderr and "cannot connect to PostgreSQL" in done.stderr


def test_wal_mode_waits_for_a_replica_that_holds_the_file(tmp_path: Path) -> None:
    """Switching to WAL while another process holds the new file answers "locked" at once,
    whatever the busy timeout: the store tries again until the other lets go."""
    import sqlite3

    from chatrec.store import _set_wal

    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    timer = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    timer.start()
    try:
        _set_wal(other, wait_s=10)
    finally:
        timer.join()
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # One that never lets go: the error, after the wait.
    stuck = tmp_path / "y.db"
    held = sqlite3.connect(stuck, isolation_level=None)
    held.execute("CREATE TABLE t (x)")
    held.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _set_wal(sqlite3.connect(stuck, isolation_level=None, timeout=0), wait_s=0.2)


# --- a guest who signs in: their chats become the person's ----------------------------------
def _newer_wins(mine: dict, theirs: dict) -> dict:
    return {**mine, **theirs, "liked": [*mine.get("liked", []), *theirs.get("liked", [])]}


def test_a_guest_who_signs_in_gives_the_person_everything_in_one_write(db_url: str) -> None:
    s = Store(db_url)
    s.claim("Ann", "ann-token")
    _turn(s, "Ann", "a1", "a tv", profile={"liked": ["1"], "said": ["old"]})
    guest = "guest-0a1b2c"
    _turn(s, guest, "g1", "a laptop", {"liked": ["2"]}, [("2", 1, "button")], guest=True,
          token_hash="ab" * 32)  # fmt: skip
    _turn(s, guest, "g1", "lighter ones?", guest=True)
    _turn(s, guest, "g2", "headphones", {"liked": ["3"]}, [("3", -1, "button")], guest=True)
    with s.transaction() as tx:  # a second catalog's chat and profile
        tx.execute("UPDATE sessions SET catalog = 'movies' WHERE id = 'g2'")
        tx.execute("UPDATE profiles SET catalog = 'movies' WHERE user_id = ?", guest)
        tx.execute("UPDATE feedback SET catalog = 'movies' WHERE session_id = 'g2'")
    _turn(s, guest, "g3", "a tv", {"liked": ["2", "4"]}, guest=True)  # the store profile again

    moved = s.adopt(guest, "Ann", _newer_wins)

    assert moved == {"sessions": 3, "feedback": 2, "profiles": 2}
    assert [x.id for x in s.sessions("Ann", "store")][-1] == "a1"
    assert {x.id for x in s.sessions("Ann")} == {"a1", "g1", "g2", "g3"}
    assert [t["user"] for t in s.turns("g1", "Ann")] == ["a laptop", "lighter ones?"]
    assert s.session_place("g2") == ("Ann", "movies")
    assert s.feedback("Ann", "store") == [("2", 1, "button")]
    assert s.feedback("Ann", "movies") == [("3", -1, "button")]
    assert s.profile("Ann", "store") == {"liked": ["1", "2", "4"], "said": ["old"]}  # merged
    assert s.profile("Ann", "movies") == {"liked": ["3"]}  # moved
    assert not s.user_exists(guest) and s.sessions(guest) == []
    assert s.stats() == {
        "users": 1, "guests": 0, "sessions": 4, "turns": 5, "feedback": 2, "profiles": 2,
        "tokens": 1,
    }  # fmt: skip
    assert s.check_token("Ann", "ann-token")
    # a guest who never sent a message has no rows: nothing to give, nothing changes
    assert s.adopt("guest-ffffff", "Ann", _newer_wins) == {
        "sessions": 0, "feedback": 0, "profiles": 0,
    }  # fmt: skip


def test_adopting_refuses_bad_input_and_a_failure_changes_nothing(db_url: str) -> None:
    s = Store(db_url)
    s.claim("Ann", "t")
    _turn(s, "Ann", "a1", "a tv", profile={"liked": ["1"]})
    _turn(s, "guest-1", "g1", "a laptop", {"liked": ["2"]}, [("2", 1, "b")], guest=True)
    _turn(s, "guest-2", "g2", "hi", guest=True)
    s.set_password("guest-2", "long enough")  # a guest who set a password is a person
    before = (s.stats(), s.sessions("guest-1"), s.profile("Ann", "store"))
    for guest, user in [("guest-1", "nobody"), ("guest-1", "guest-1"), ("guest-2", "Ann")]:
        with pytest.raises(ValueError):
            s.adopt(guest, user, _newer_wins)

    def broken(mine: dict, theirs: dict) -> dict:
        raise RuntimeError("merge failed")

    with pytest.raises(RuntimeError, match="merge failed"):
        s.adopt("guest-1", "Ann", broken)
    assert (s.stats(), s.sessions("guest-1"), s.profile("Ann", "store")) == before
    assert s.user_exists("guest-1") and s.feedback("guest-1", "store") == [("2", 1, "b")]
