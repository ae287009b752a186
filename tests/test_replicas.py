"""Past one machine: two `chatrec serve` replicas on one PostgreSQL database serve one person
across both, turn by turn, without losing or forking anything (DESIGN.md's path)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from .serving import Server, call_chat, page_event, page_ids, text_of

pytestmark = pytest.mark.integration


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[tuple[Server, Server]]:
    a = Server(postgres_url, "replica-a", llm=False)
    b = Server(postgres_url, "replica-b", llm=False)
    a.start()
    try:
        b.start()
    except BaseException:
        a.kill()
        raise
    yield a, b
    a.kill()
    b.kill()


def _prices(text: str) -> list[float]:
    return [float(p.replace(",", "")) for p in re.findall(r"^\$([\d,]+\.?\d*)", text, re.M)]


def test_two_replicas_serve_one_person_without_loss(
    replicas: tuple[Server, Server], postgres_url: str
) -> None:
    a, b = replicas
    # A guest starts on replica A ...
    status, (first, ident) = call_chat(a.url, ["a TV under $600", "store", 0.8, {}])
    assert status == 200 and "TVs" in first and ident["user"].startswith("guest-")
    # ... goes on on B: B knows the guest (one secret per database) and the request so far.
    status, (second, ident_b) = call_chat(b.url, ["cheaper than those", "store", 0.8, ident])
    assert status == 200 and ident_b == ident, second
    assert "TVs" in second and max(_prices(second)) < min(_prices(first))
    # Back on A, which must not answer from a stale copy of the session.
    status, (third, _) = call_chat(a.url, ["what does the second one cost?", "store", 0.8, ident])
    assert status == 200
    second_pick = _prices(second)[1]
    assert f"${second_pick:,.2f}" in third, (second, third)
    # A named person: signs in on B, chats on A, finds the chat on B after a reload.
    ids_b = page_ids(b.url)
    signed = page_event(b.url, ids_b["sign_in"], ["Replica Ann", "", {}])[0]
    assert signed["user"] == "Replica Ann"
    status, (_, ann) = call_chat(a.url, ["headphones for running", "store", 0.8, signed])
    assert status == 200 and ann["user"] == "Replica Ann"
    page = page_event(b.url, ids_b["restore"], [ann])
    assert page[0]["user"] == "Replica Ann" and page[0]["session"] == ann["session"]
    said = [text_of(m["content"]) for m in page[5] if m["role"] == "user"]
    assert said == ["headphones for running"]
    # Every answered turn is stored once, in order, in the one database.
    with psycopg.connect(postgres_url) as db:
        said = db.execute(
            "SELECT user_text FROM turns WHERE session_id = %s ORDER BY id", (ident["session"],)
        ).fetchall()
    assert [s for (s,) in said] == [
        "a TV under $600",
        "cheaper than those",
        "what does the second one cost?",
    ]
    assert a.tracebacks() == 0 and b.tracebacks() == 0
