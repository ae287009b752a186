"""Storage faults are visible: a turn that can't be saved fails where the person is (the chat
says so, the CLI exits non-zero), nothing of it is stored, and a database that is refused is
left as it was. The fault is real: a trigger in the database aborts the write of the turn."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatrec.bundle import Bundle
from chatrec.recommender import ChatRecommender
from chatrec.store import Store
from ui.handlers import Handlers, Recommenders

from .conftest import REPO

NOT_SAVED = "I couldn't save this turn"


def _break_writes(path: Path) -> None:
    """From now on every turn written to ``path`` fails, as a full or failing disk would."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER fail_turns BEFORE INSERT ON turns "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )


def _turns(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM turns").fetchone()[0]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatrec.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_chat_says_when_a_turn_was_not_saved(
    tmp_path: Path, tiny_bundle: Bundle, tiny_recommender: ChatRecommender
) -> None:
    path = tmp_path / "chat.db"
    store = Store(f"sqlite:///{path}")
    rec = ChatRecommender(
        tiny_bundle, tiny_recommender.embedder, tiny_recommender.lexicon, store=store
    )
    handlers = Handlers(Recommenders(factory=lambda catalog, **kw: rec))
    text, ident = list(handlers.chat_api("a TV", "store", 0.8, {}, None))[-1]  # type: ignore[arg-type]
    assert "TV" in text and _turns(path) == 1
    _break_writes(path)
    text, _ = list(handlers.chat_api("cheaper", "store", 0.8, ident, None))[-1]  # type: ignore[arg-type]
    assert text.startswith(NOT_SAVED)
    assert _turns(path) == 1
    # The dialogue did not move on either: the next turn reads the session as it was saved.
    assert rec.session(ident["session"], ident["user"]).request == ["a TV"]


@pytest.mark.integration
def test_the_cli_exits_non_zero_when_the_answer_was_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    url = f"sqlite:///{path}"
    ok = _cli("ask", "--no-llm", "-c", "store", "--user", "bob", "--db", url, "a TV under $500")
    assert ok.returncode == 0, ok.stderr
    _break_writes(path)
    failed = _cli("ask", "--no-llm", "-c", "store", "--user", "bob", "--db", url, "headphones")
    assert failed.returncode != 0
    assert NOT_SAVED in failed.stderr and "Traceback" not in failed.stderr
    assert _turns(path) == 1


@pytest.mark.integration
def test_a_refused_database_is_left_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    out = _cli("ask", "--no-llm", "-c", "store", "--user", "bob", "--db", f"sqlite:///{path}", "hi")
    assert out.returncode != 0 and "schema version 99" in out.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.integration
def test_serve_prunes_idle_guests_at_start(tmp_path: Path) -> None:
    from .serving import Server

    path = tmp_path / "guests.db"
    url = f"sqlite:///{path}"
    month_ago = Store(url, clock=lambda: time.time() - 31 * 86400)
    month_ago.add_user("guest-old", guest=True)
    month_ago.add_user("Old Friend")  # a person, not a guest: kept however long away
    month_ago.close()
    Store(url).add_user("guest-new", guest=True)
    srv = Server(path, "prune", llm=False).start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with sqlite3.connect(path) as db:
                users = {u for (u,) in db.execute("SELECT id FROM users")}
            if "guest-old" not in users:
                break
            time.sleep(0.5)
    finally:
        srv.kill()
    assert users == {"guest-new", "Old Friend"}
