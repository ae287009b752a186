"""The app as people use it: served by `chatrec serve`, driven through gradio_client and a
real headless Chromium (Debian's, installed by `make test`'s set-up; never downloaded).

Each server gets its own database in a temporary folder, so runs never see each other.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatrec import Reply
from chatrec.datasets import data_dir, store
from chatrec.facts import price_text
from ui.handlers import Handlers, Recommenders

from .serving import ARTIFACTS, Server

CHROMIUM = os.environ.get("CHATREC_CHROMIUM", "/usr/bin/chromium")
CATALOG = {it.id: it for it in store.load(data_dir())}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    srv = Server(tmp_path_factory.mktemp("db") / "chatrec.db", "app").start()
    yield srv.url
    srv.kill()


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def _plain(text: str) -> str:
    """Markdown as the person reads it: the escapes of ``ui.render.escape`` undone."""
    return re.sub(r"\\(.)", r"\1", text).replace("&lt;", "<").replace("&amp;", "&")


def _titles(text: str) -> list[str]:
    """The bold card titles of a rendered reply, in order."""
    return [_plain(t) for t in re.findall(r"\*\*\d+\. (.+?)(?<!\\)\*\*", text)]


def _by_title(title: str):
    return next(it for it in CATALOG.values() if it.title == title)


class _FakeRecommender:
    """Just enough of ``ChatRecommender`` for the handlers: a token is ``t-`` + the name."""

    def sign_in(self, name: str, token: str | None = None) -> tuple[str, str]:
        return name, f"t-{name}"

    def guest(self) -> tuple[str, str]:
        return self.sign_in(f"guest-{uuid.uuid4().hex[:8]}")

    def authenticate(self, user: str, token: str) -> bool:
        return token == f"t-{user}"

    def owns(self, user: str, session_id: str) -> bool:
        return False

    def chat_stream(self, message: str, session_id: str, **kwargs: object) -> Iterator[Reply]:
        yield Reply(f"You said: {message}", "chat")

    def sessions_of(self, user: str) -> list[dict]:
        return []

    def profile_summary(self, user: str) -> str:
        return "No profile yet."


def test_handlers_check_the_token_on_every_call_without_a_browser() -> None:
    handlers = Handlers(Recommenders(factory=lambda catalog, **kw: _FakeRecommender()))
    stream = handlers.chat_api("hi", "store", 0.8, {}, None)  # type: ignore[arg-type]
    text, ident = list(stream)[-1]
    assert text == "You said: hi" and ident["user"].startswith("guest-") and ident["session"]
    forged = {**ident, "token": "guess"}
    stream = handlers.chat_api("hi", "store", 0.8, forged, None)  # type: ignore[arg-type]
    assert list(stream) == [("Please reload the page.", {})]


@pytest.mark.integration
def test_only_the_chat_endpoint_is_exposed(server: str) -> None:
    client = _client(server)
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/chat"} and api["unnamed_endpoints"] == {}
    # The UI's own events (sign-in, history, feedback buttons) are not callable from outside.
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises several kinds here
        client.predict("ann", {}, fn_index=2)


@pytest.mark.integration
def test_chat_streams_and_keeps_the_session(server: str) -> None:
    client = _client(server)
    job = client.submit("a TV under $500", "store", 0.8, {}, api_name="/chat")
    text, ident = job.result(timeout=300)
    titles = _titles(text)
    assert text.startswith("Here are 5 picks") and len(titles) == 5
    assert all("TVs" in _by_title(t).categories and _by_title(t).price <= 500 for t in titles)
    # It streamed: the picks came first, the explanations after (every card ends with one).
    outputs = [o[0] for o in job.outputs()]
    assert len(outputs) > 2 and outputs[0].startswith("Here are 5 picks")
    assert text.count("  \n_") == 5 and outputs[0].count("  \n_") < 5
    assert ident["user"].startswith("guest-") and ident["token"] and ident["session"]
    # The same session continues: "the second one" is the second TV above.
    answer, again = client.predict(
        "what does the second one cost?", "store", 0.8, ident, api_name="/chat"
    )
    second = _by_title(titles[1])
    assert _plain(answer).startswith(second.title) and price_text(second) in answer
    assert again == ident


@pytest.mark.integration
def test_nobody_reads_or_continues_someone_elses_session(server: str) -> None:
    ann = _client(server)
    text, ident = ann.predict("show me some smart watches", "store", 0.8, {}, api_name="/chat")
    bob = _client(server)
    # Bob knows Ann's name and session id but not her token: he gets nothing of hers.
    stolen = {**ident, "token": "guess"}
    reply, _ = bob.predict("what does the second one cost?", "store", 0.8, stolen, api_name="/chat")
    assert "reload" in reply.lower() and not _titles(reply)
    # With his own (guest) identity and her session id, the session is his own, empty one.
    _, mine = bob.predict("hello", "store", 0.8, {}, api_name="/chat")
    forged = {**mine, "session": ident["session"]}
    reply, _ = bob.predict("what does the second one cost?", "store", 0.8, forged, api_name="/chat")
    second = _by_title(_titles(text)[1])
    assert second.title not in reply and price_text(second) not in reply


@pytest.mark.integration
def test_ten_concurrent_sessions_get_their_own_replies(server: str) -> None:
    wishes = [
        ("smart watches", "Smart Watches"),
        ("a soundbar", "Soundbars & Home Theater"),
        ("a gaming laptop", "Gaming Laptops & Notebook Computers"),
        ("a wifi router", "Routers, Wifi Extenders & Modems"),
        ("a monitor", "Monitors"),
        ("headphones", "Headphones & Earbuds"),
        ("a tablet", "iPad & Tablets"),
        ("a home security camera", "Home Security Systems & Cameras"),
        ("a projector", "Projectors"),
        ("a TV", "TVs"),
    ]
    results: dict[int, tuple[str, str]] = {}
    errors: list[BaseException] = []

    def person(n: int) -> None:
        try:
            client = _client(server)
            text, ident = client.predict(
                f"show me {wishes[n][0]}", "store", 0.8, {}, api_name="/chat"
            )
            answer, _ = client.predict(
                "what does the first one cost?", "store", 0.8, ident, api_name="/chat"
            )
            results[n] = (text, answer)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(len(wishes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    for n, (_, category) in enumerate(wishes):
        text, answer = results[n]
        first = _by_title(_titles(text)[0])
        assert any(category in _by_title(t).categories for t in _titles(text)), (n, text[:300])
        assert _plain(answer).startswith(first.title) and price_text(first) in answer, n


@pytest.mark.integration
def test_a_restart_mid_conversation_loses_no_answered_turn(tmp_path: Path) -> None:
    srv = Server(tmp_path / "chatrec.db", "restart", llm=False).start()
    try:
        client = _client(srv.url)
        _, ident = client.predict("I need a wifi router", "store", 0.8, {}, api_name="/chat")
        cheaper, ident = client.predict(
            "any cheaper options?", "store", 0.8, ident, api_name="/chat"
        )
        srv.kill()  # a crash right after the answer
        srv.start()
        client = _client(srv.url)
        answer, _ = client.predict(
            "what does the first one cost?", "store", 0.8, ident, api_name="/chat"
        )
        first = _by_title(_titles(cheaper)[0])
        assert _plain(answer).startswith(first.title) and price_text(first) in answer
    finally:
        srv.kill()


def _browser(p):
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    return p.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def _cards(page) -> list[str]:
    out = []
    for i in range(1, 11):
        card = page.locator(f"#card-{i}").first
        if card.is_visible():
            out.append(card.inner_text().splitlines()[0].split(". ", 1)[1])
    return out


def _cards_settle(page, expected: list[str], timeout_s: float = 60.0) -> list[str]:
    """The cards on screen once they match `expected` or `timeout_s` passes: after a reload
    Gradio renders the card slots one by one, so a single read can catch a half-drawn list."""
    deadline = time.monotonic() + timeout_s
    seen = _cards(page)
    while seen != expected and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        seen = _cards(page)
    return seen


def _stable_cards(page, quiet_s: float = 1.0, timeout_s: float = 60.0) -> list[str]:
    """The cards once they have stayed the same for `quiet_s` (the list is still drawing when
    the last text lands)."""
    deadline = time.monotonic() + timeout_s
    seen, since = _cards(page), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = _cards(page)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return seen


@pytest.mark.integration
def test_a_new_person_in_a_real_browser(server: str) -> None:
    """Onboard, get picks, 👎 one and see the list change, ask about a pick, reload: the
    conversation is still there."""
    from playwright.sync_api import expect, sync_playwright

    shots = ARTIFACTS
    shots.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server, wait_until="domcontentloaded")
        page.locator("#message textarea").wait_for(timeout=60_000)
        expect(page.get_by_text("Chatting as a guest")).to_be_visible(timeout=60_000)

        # Typed key by key as a person would, and left (Tab) before the click: the form must
        # hold the words when "Get my picks" sends it (a CI run once sent an empty form).
        tastes = page.locator("#tastes textarea")
        tastes.press_sequentially("I work from home and need a monitor under $300")
        tastes.press("Tab")
        expect(tastes).to_have_value("I work from home and need a monitor under $300")
        page.locator("#get-picks").click()
        expect(page.locator("#chat")).to_contain_text("I work from home", timeout=60_000)
        expect(page.get_by_text("Welcome! Here's a start")).to_be_visible(timeout=180_000)
        page.locator("#card-5").first.wait_for(state="visible", timeout=180_000)
        # Wait for the explanations to finish streaming (the profile line updates last).
        expect(page.locator("#profile")).to_contain_text("Monitors", timeout=180_000)
        before = _stable_cards(page)
        assert len(before) == 5
        for title in before:
            it = _by_title(title)
            assert "Monitors" in it.categories and it.price <= 300
        page.screenshot(path=str(shots / "app-onboarding.png"), full_page=True)

        page.locator("#down-1").first.click()
        expect(page.get_by_text(f"won't suggest {before[0]}")).to_be_visible(timeout=180_000)
        expect(page.locator("#profile")).to_contain_text("rather not see", timeout=180_000)
        after = _stable_cards(page)
        assert after and before[0] not in after and after != before
        page.screenshot(path=str(shots / "app-thumbs-down.png"), full_page=True)

        page.locator("#message textarea").fill("what does the second one cost?")
        page.locator("#message textarea").press("Enter")
        second = _by_title(after[1])
        expect(page.locator("#chat")).to_contain_text(
            f"{second.title} costs {price_text(second)}", timeout=120_000
        )
        assert _cards_settle(page, after) == after  # an answer keeps the picks on screen
        page.screenshot(path=str(shots / "app-question.png"), full_page=True)

        page.reload(wait_until="domcontentloaded")
        expect(page.locator("#chat")).to_contain_text(
            f"{second.title} costs {price_text(second)}", timeout=60_000
        )
        expect(page.locator("#chat")).to_contain_text("I work from home", timeout=10_000)
        assert _cards_settle(page, after) == after
        page.screenshot(path=str(shots / "app-reloaded.png"), full_page=True)
        browser.close()


@pytest.mark.integration
def test_password_login_names_the_person(tmp_path: Path) -> None:
    from gradio_client import Client

    users = tmp_path / "users.txt"
    users.write_text("ann:secret-a\nbob:secret-b\n")
    srv = Server(tmp_path / "chatrec.db", "auth", llm=False)
    srv.extra = ["--auth", str(users)]
    srv.start()
    try:
        with pytest.raises(Exception):  # noqa: B017 - no login, no app
            Client(srv.url, verbose=False).predict("hi", "store", 0.8, {}, api_name="/chat")
        ann = Client(srv.url, auth=("ann", "secret-a"), verbose=False)
        _, ident = ann.predict("show me headphones", "store", 0.8, {}, api_name="/chat")
        assert ident["user"] == "ann"
        # Bob, logged in, claiming to be Ann, is still Bob.
        bob = Client(srv.url, auth=("bob", "secret-b"), verbose=False)
        _, his = bob.predict("hello", "store", 0.8, {**ident}, api_name="/chat")
        assert his["user"] == "bob" and his["session"] != ident["session"]
    finally:
        srv.kill()


def test_a_tabs_turns_run_one_at_a_time_in_the_order_they_were_sent() -> None:
    """A message sent while a reply streams is queued, shown as queued, and answered next."""
    handlers = Handlers(Recommenders(factory=lambda catalog, **kw: _FakeRecommender()))

    class Tab:
        session_hash = "tab-1"
        username = None
        client = None

    first = handlers.say("a laptop", [], {}, 0.8, [], Tab())  # type: ignore[arg-type]
    out = next(first)  # the first reply is streaming
    ident = out[1]
    second = list(handlers.say("cheaper", out[0], ident, 0.8, [], Tab()))  # type: ignore[arg-type]
    assert len(second) == 1 and all(v == {"__type__": "update"} for v in second[0])  # queued
    rest = list(first)
    shown = [m["content"] for m in rest[-1][0]]
    assert shown == ["a laptop", "You said: a laptop", "cheaper", "You said: cheaper"]
    assert any("queued" in m["content"] for step in rest[:-1] for m in step[0])
    # The tab is free again: the next message runs at once.
    third = list(handlers.say("thanks", rest[-1][0], rest[-1][1], 0.8, [], Tab()))  # type: ignore[arg-type]
    assert third[-1][0][-1]["content"] == "You said: thanks"


def test_catalog_text_is_shown_as_written_and_counts_read_right() -> None:
    from ui.render import card, escape, plural, session_choices, switch_hint

    item = {"title": "TV - Plan for 5 Years of Total Coverage*", "attributes": {"price": 5.0}}
    assert card(1, item).startswith("**1. TV - Plan for 5 Years of Total Coverage\\***")
    assert escape("<b>A&B</b> [x](y) a_b") == "&lt;b>A&amp;B&lt;/b> \\[x\\](y) a\\_b"
    assert (plural(1, "turn"), plural(2, "turn")) == ("1 turn", "2 turns")
    long = {"id": "s1", "title": "a laptop for travel under $900 with a long battery", "turns": 1}
    ((label, value),) = session_choices([long], "s1")["choices"]
    assert label == "a laptop for travel under $900… · 1 turn" and value == "s1"
    assert "Movies" in switch_hint("an animated movie for kids", "store")
    assert switch_hint("a movie projector", "store") == ""  # a store word: no hint
    assert "Electronics" in switch_hint("a laptop for my son", "movies")


def test_a_cards_button_pressed_twice_while_its_turn_runs_counts_once() -> None:
    from ui.handlers import Step, Waiting

    waiting, act = Waiting(), _FakeRecommender().chat_stream
    down = Step("👎 TV", act, rejected="tv-1", button=True)  # type: ignore[arg-type]
    assert waiting.add("tab", down)  # runs at once
    assert not waiting.add("tab", Step("👎 TV", act, rejected="tv-1", button=True))  # type: ignore[arg-type]
    assert waiting.next("tab") is down and waiting.shown("tab") == []
    assert waiting.next("tab") is None  # the tab is free: nothing else was queued
    # Typed messages are never merged: the same words twice are two turns.
    assert waiting.add("tab", Step("more", act))  # type: ignore[arg-type]
    assert not waiting.add("tab", Step("more", act))  # type: ignore[arg-type]
    assert waiting.shown("tab") == ["more", "more"]


def test_a_turn_that_fails_after_its_reply_leaves_the_tab_free() -> None:
    """A failure outside the turn (the chats list could not be read) must not leave the tab
    waiting for a turn that never ends: the next message runs."""

    class Flaky(_FakeRecommender):
        broken = True

        def sessions_of(self, user: str) -> list[dict]:
            if self.broken:
                raise RuntimeError("database went away")
            return []

    rec = Flaky()
    handlers = Handlers(Recommenders(factory=lambda catalog, **kw: rec))

    class Tab:
        session_hash = "tab-2"
        username = None
        client = None

    with pytest.raises(RuntimeError):
        list(handlers.say("a laptop", [], {}, 0.8, [], Tab()))  # type: ignore[arg-type]
    rec.broken = False
    out = list(handlers.say("hello", [], {}, 0.8, [], Tab()))  # type: ignore[arg-type]
    assert out[-1][0][-1]["content"] == "You said: hello"
