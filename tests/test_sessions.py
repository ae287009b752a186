"""Signing in as a person keeps what the guest did: their chats (every catalog), feedback and
profile become the person's, and no cache keeps serving the guest's or the person's old
data. On SQLite and PostgreSQL, with the tiny catalog; once more on the real store catalog."""

from __future__ import annotations

import pytest

from chatrec.constraints import Lexicon
from chatrec.recommender import ChatRecommender
from chatrec.store import Store
from chatrec.types import Reply

LEXICON = {"laptop": ("Laptops",), "laptops": ("Laptops",), "tv": ("TVs",)}


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url)


def _rec(tiny_bundle, embedder, store: Store) -> ChatRecommender:
    lexicon = Lexicon(LEXICON, addon_words=("mount", "service"))
    return ChatRecommender(tiny_bundle, embedder, lexicon, store=store)


def _ids(reply: Reply) -> list[str]:
    return [r.item_id for r in reply.items]


def test_signing_in_keeps_the_guests_chat(tiny_bundle, embedder, store: Store) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    guest, _ = rec.guest()
    first = rec.chat("a laptop", "g1", user=guest)
    assert first.items and all(i.startswith("lap") for i in _ids(first))
    rec.feedback("g1", first.items[0].item_id, "up", user=guest)

    user, token = rec.sign_in("Ann", guest=guest)

    assert rec.authenticate(user, token) and user == "Ann"
    assert [s["id"] for s in rec.sessions_of("Ann")] == ["g1"]
    assert rec.history_of("g1", "Ann")[0]["user"] == "a laptop"
    assert rec.owns("Ann", "g1") and not rec.owns(guest, "g1")
    assert rec.profile("Ann").liked == [first.items[0].item_id]
    assert store.feedback("Ann", "tiny") == [(first.items[0].item_id, 1, "button")]
    # the guest is gone, and nothing of theirs is served from memory any more
    assert not store.user_exists(guest) and rec.history_of("g1", guest) == []
    assert rec.session("g1", guest).turns == [] and rec.sessions_of(guest) == []
    # the chat goes on where it was: still laptops
    again = rec.chat("only under $800", "g1", user="Ann")
    assert again.intent == "refine" and again.items
    assert all(i.startswith("lap") for i in _ids(again))
    assert all(r.attributes["price"] <= 800 for r in again.items)


def test_a_person_keeps_their_profile_and_gains_the_guests(
    tiny_bundle, embedder, store: Store
) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    ann, token = rec.sign_in("Ann")
    rec.chat("I'm new here, I like TVs under $500", "a1", user=ann)
    rec.feedback("a1", "tv1", "up", user=ann)
    rec.feedback("a1", "tv3", "down", user=ann)
    guest, _ = rec.guest()  # Ann, signed out, chats as a guest in another browser
    rec.chat("I'm new here, I want a laptop under $1000", "g1", user=guest)
    rec.feedback("g1", "lap1", "up", user=guest)
    rec.feedback("g1", "tv3", "up", user=guest)  # changed her mind: newer wins

    assert rec.sign_in("ann", token, guest=guest) == ("Ann", token)

    prof = rec.profile("Ann")
    assert prof.liked == ["tv1", "lap1", "tv3"] and prof.disliked == []
    assert prof.price_max == 1000  # the guest's stated budget is the newer
    assert prof.categories[0] == "Laptops" and "TVs" in prof.categories
    assert {s["id"] for s in rec.sessions_of("Ann")} == {"a1", "g1"}
    assert "under $1,000" in rec.profile_summary("Ann")
    # a new chat of hers starts from the merged profile
    assert {"tv1", "lap1", "tv3"} <= set(rec.session("a2", "Ann").liked)


def test_a_guest_who_said_nothing_signs_in_and_brings_nothing(
    tiny_bundle, embedder, store: Store
) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    guest, _ = rec.guest()
    user, token = rec.sign_in("Bob", guest=guest)
    assert rec.authenticate(user, token) and rec.sessions_of("Bob") == []
    assert store.stats()["users"] == 1 and store.stats()["guests"] == 0


def test_a_guest_name_that_is_no_guest_is_refused_and_changes_nothing(
    tiny_bundle, embedder, store: Store
) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    rec.sign_in("Ann")
    rec.chat("a tv", "a1", user="Ann")
    before = store.stats()
    for not_a_guest in ("Ann", "", "bob"):
        with pytest.raises(ValueError, match="not a guest"):
            rec.sign_in("Eve", guest=not_a_guest)
    assert store.stats() == before and not store.user_exists("Eve")
    assert [s["id"] for s in rec.sessions_of("Ann")] == ["a1"]


def test_forget_drops_what_another_recommender_remembers(
    tiny_bundle, embedder, store: Store
) -> None:
    # Two catalogs' recommenders on one store: the sign-in runs on one, the other forgets.
    one, other = _rec(tiny_bundle, embedder, store), _rec(tiny_bundle, embedder, store)
    guest, _ = one.guest()
    other.chat("a laptop", "g1", user=guest)
    assert other.session("g1", guest).turns  # remembered
    one.sign_in("Ann", guest=guest)
    other.forget(guest)
    other.forget("Ann")
    assert other.session("g1", guest).turns == []
    assert [t["user"] for t in other.history_of("g1", "Ann")] == ["a laptop"]
    assert other.session("g1", "Ann").turns and other.owns("Ann", "g1")


def test_a_name_in_another_case_is_the_same_taken_name(tiny_bundle, embedder, store: Store) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    _, token = rec.sign_in("Shopper7")  # one browser
    with pytest.raises(ValueError, match="already taken"):
        rec.sign_in("shopper7")  # another browser, without its token
    assert rec.sign_in("shopper7", token) == ("Shopper7", token)  # her own browser


def test_a_guest_who_picks_a_taken_name_is_refused_and_keeps_their_chat(
    tiny_bundle, embedder, store: Store
) -> None:
    rec = _rec(tiny_bundle, embedder, store)
    rec.sign_in("Shopper7")
    guest, _ = rec.guest()
    rec.chat("a tv", "g1", user=guest)
    with pytest.raises(ValueError, match="already taken"):
        rec.sign_in("SHOPPER7", guest=guest)
    assert rec.sessions_of("Shopper7") == [] and rec.sessions_of(guest)  # nothing moved
    assert rec.owns(guest, "g1") and rec.session("g1", guest).turns


# --- the real store catalog -----------------------------------------------------------------
@pytest.fixture(scope="module")
def real_store(real_runtime) -> ChatRecommender:
    return ChatRecommender.from_pretrained("store", runtime=real_runtime, llm=False)


@pytest.mark.integration
def test_the_real_store_keeps_a_guests_laptop_chat_after_sign_in(real_store, tmp_path) -> None:
    r = real_store
    store = Store(f"sqlite:///{tmp_path / 'chatrec.db'}")
    rec = ChatRecommender(r.bundle, r.embedder, r.lexicon, r.config, store=store)
    guest, _ = rec.guest()
    first = rec.chat("a laptop", "g1", user=guest)
    assert first.items

    rec.sign_in("Shopper7", guest=guest)

    assert [s["title"] for s in rec.sessions_of("Shopper7")] == ["a laptop"]
    assert rec.owns("Shopper7", "g1")
    cheaper = rec.chat("cheaper ones?", "g1", user="Shopper7")
    floor = min(i.attributes["price"] for i in first.items)
    assert cheaper.intent == "refine" and cheaper.items
    for item in cheaper.items:
        assert item.attributes["price"] < floor
        assert any("Laptops" in c for c in item.attributes["categories"])
    assert [t["user"] for t in rec.history_of("g1", "Shopper7")] == ["a laptop", "cheaper ones?"]
