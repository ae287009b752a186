"""Load benchmark: several people chatting at once with a real ``chatrec serve``.

``run_load`` starts ``chatrec serve`` in a subprocess on a free port with a database in a
temporary folder, waits until it answers, and then, through the public ``/chat`` endpoint
(``gradio_client``, one ``Client`` per person, each in its own thread):

1. one person alone (the single-person figures), then
2. ``people`` people at once, each sending ``turns`` messages of their own conversation in
   sequence (they all send their first message at the same moment).

Per turn it measures the time to the first text (the first streamed output that holds the
answer or the picks) and to the full reply. It counts errors (exceptions, timeouts, the
friendly "Sorry" line, a refused identity, an answered turn missing from the session's saved
history) and cross-talk: a reply showing a product of another person's categories, an identity
that belongs to another person, or a saved session that holds another person's message. Each
person shops in categories nobody else does, so another person's reply is recognisable.
``template_share`` is the share of the picks the language model would have explained that got
their fact templates because it was busy (counted from the server's log; ``chatrec.load``).

The server's log is written next to the JSON; its tracebacks are counted. Timings are
seconds; the machine's load average is recorded beside them (the cores are shared).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.config import RuntimeConfig
from chatrec.load import LOG_BUSY, LOG_MODEL, cores

_CARD = re.compile(r"\*\*\d+\. (.+?)\*\*")  # a pick's bold title in the rendered reply
PLACEHOLDER = "…"  # what the chat shows before a turn's first text


@dataclass(frozen=True)
class Person:
    """A simulated shopper: the categories they shop in and what they say, in order."""

    wants: frozenset[str]
    messages: tuple[str, ...]


def _person(wants: str, *messages: str) -> Person:
    return Person(frozenset(wants.split("|")), messages)


# One conversation per person, each in categories no other conversation touches: a request,
# refinements ("cheaper", a budget), a question about a pick, "not that one", more options.
CONVERSATIONS: dict[str, tuple[Person, ...]] = {
    "store": (
        _person(
            "TVs",
            "a TV under $600",
            "something cheaper",
            "does the second one have HDMI?",
            "not the first one",
            "which of those is best rated?",
        ),
        _person(
            "Laptops & Notebook Computers|Gaming Laptops & Notebook Computers",
            "I need a laptop for college under $900",
            "something cheaper",
            "what does the first one cost?",
            "not that one",
            "other options",
        ),
        _person(
            "Monitors",
            "a monitor for my desk",
            "under $300",
            "does the second one have a stand?",
            "show me other options",
            "what's your return policy?",
        ),
        _person(
            "Smart Watches",
            "a smart watch for running",
            "cheaper",
            "does the second one have GPS?",
            "not that one",
            "which is best rated?",
        ),
        _person(
            "Headphones & Earbuds",
            "noise cancelling headphones",
            "under $200",
            "the second one has bluetooth?",
            "not the first one",
            "which of those is cheapest?",
        ),
        _person(
            "Soundbars & Home Theater",
            "a soundbar for my living room",
            "under $300",
            "does the first one have bluetooth?",
            "other options",
            "which of those is cheapest?",
        ),
        _person(
            "Routers, Wifi Extenders & Modems",
            "a wifi router for a big house",
            "under $400",
            "does the second one support wifi 6?",
            "not that one",
            "what about shipping?",
        ),
        _person(
            "iPad & Tablets",
            "a tablet for my kid under $400",
            "what does the second one cost?",
            "not the first one",
            "show me other options",
            "which of those is best rated?",
        ),
        _person(
            "Home Security Systems & Cameras|Smart Home & Safety",
            "a home security camera",
            "under $200",
            "does the first one have night vision?",
            "show me other options",
            "which of those is best rated?",
        ),
        _person(
            "Desktop Computers & PCs|Gaming Desktop Computer & PCs|Mini PC Desktop Computer & PCs",
            "a desktop computer for the office",
            "under $1000",
            "how much RAM does the second one have?",
            "not that one",
            "cheaper",
        ),
        _person(
            "Speakers & Voice Assistants",
            "a bluetooth speaker",
            "under $100",
            "is the second one waterproof?",
            "not the first one",
            "other options",
        ),
        _person(
            "Video Games & Consoles",
            "a video game console",
            "under $500",
            "what does the first one cost?",
            "other options",
            "which of those is best rated?",
        ),
    ),
}


@dataclass
class TurnResult:
    """One message of one person: timings (seconds; None when it failed) and what went wrong."""

    person: int
    turn: int
    message: str
    first_text: float | None = None
    full: float | None = None
    text: str = ""
    errors: list[str] = field(default_factory=list)
    cross_talk: list[str] = field(default_factory=list)
    user: str = ""  # the identity that came back with the reply
    session: str = ""


@dataclass
class Conversation:
    """What one simulated person sent and got back."""

    person: int
    turns: list[TurnResult] = field(default_factory=list)
    user: str = ""
    session: str = ""


# --- the server -------------------------------------------------------------------------
@contextlib.contextmanager
def served(
    db: Path, log: Path, llm: bool, artifacts: Path | None, timeout: float = 600
) -> Iterator[str]:
    """``chatrec -v serve`` on a free port and the database ``db``; yields its URL once it
    answers; stops it afterwards. Its output (INFO and up) goes to ``log``."""
    port = _free_port()
    args = [sys.executable, "-m", "chatrec.cli", "-v", "serve", "--port", str(port)]
    args += ["--db", f"sqlite:///{db}", *([] if llm else ["--no-llm"])]
    if artifacts is not None:
        args += ["--artifacts", str(artifacts)]
    url = f"http://127.0.0.1:{port}/"
    with log.open("a") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, url, log, timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"chatrec serve exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"chatrec serve did not answer within {timeout:.0f} s (log: {log})")


# --- people ---------------------------------------------------------------------------
def _ask(client: Any, message: str, catalog: str, ident: dict, timeout: float) -> TurnResult:
    """Send one message through ``/chat``; time the first text and the full reply."""
    res = TurnResult(-1, -1, message)
    t0 = time.perf_counter()
    try:
        job = client.submit(message, catalog, 0.8, ident, api_name="/chat")
        while not job.done():
            if res.first_text is None and any(_answered(o) for o in job.outputs()):
                res.first_text = time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout:
                job.cancel()
                raise TimeoutError(f"no reply within {timeout:.0f} s")
            time.sleep(0.005)
        text, who = job.result(timeout=timeout)
        res.full = time.perf_counter() - t0
    except Exception as err:  # every failure is counted, none stops the run
        res.errors.append(f"{type(err).__name__}: {err}")
        return res
    res.first_text = res.full if res.first_text is None else res.first_text
    res.text = str(text or "")
    ident.clear()
    ident.update(who if isinstance(who, dict) else {})
    return res


def _answered(output: Any) -> bool:
    text = output[0] if isinstance(output, list | tuple) and output else output
    return isinstance(text, str) and text.strip() not in ("", PLACEHOLDER)


def converse(
    url: str,
    n: int,
    person: Person,
    catalog: str,
    turns: int,
    start: threading.Barrier | None = None,
    timeout: float = 300,
    think: float = 0.0,
) -> Conversation:
    """Person ``n``'s conversation: ``turns`` messages in sequence, each waiting for its reply,
    then ``think`` seconds on average (uniform in [0.5, 1.5] x think, seeded by ``n``) reading
    it and typing the next one (0: the next message at once, the worst case)."""
    from gradio_client import Client

    from ui.handlers import SORRY

    conv = Conversation(n)
    client = Client(url, verbose=False)
    if start is not None:
        start.wait()
    ident: dict[str, Any] = {}
    pause = random.Random(n)
    for t, message in enumerate(person.messages[:turns]):
        if t and think > 0:
            time.sleep(think * pause.uniform(0.5, 1.5))
        res = _ask(client, message, catalog, ident, timeout)
        res.person, res.turn = n, t
        res.user, res.session = str(ident.get("user", "")), str(ident.get("session", ""))
        if not res.errors:
            if res.text.startswith(SORRY):
                res.errors.append("the reply was the 'something went wrong' line")
            if not ident.get("user") or not ident.get("session"):
                res.errors.append(f"no identity came back: {res.text[:80]!r}")
            elif not conv.user:
                conv.user, conv.session = ident["user"], ident["session"]
            elif (ident["user"], ident["session"]) != (conv.user, conv.session):
                res.errors.append("the identity changed between turns")
        conv.turns.append(res)
        if not ident.get("user"):
            ident = {}  # start over as a fresh guest rather than send a broken identity
    return conv


def run_people(
    url: str,
    people: Sequence[Person],
    catalog: str,
    turns: int,
    timeout: float = 300,
    think: float = 0.0,
) -> list[Conversation]:
    """Every person's conversation at once, one thread each; all start together."""
    out: list[Conversation | None] = [None] * len(people)
    start = threading.Barrier(len(people))

    def run(i: int) -> None:
        try:
            out[i] = converse(url, i, people[i], catalog, turns, start, timeout, think)
        except Exception as err:  # e.g. the client could not connect
            start.abort()
            conv = Conversation(i)
            conv.turns.append(TurnResult(i, 0, "", errors=[f"{type(err).__name__}: {err}"]))
            out[i] = conv

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(people))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return [c for c in out if c is not None]


# --- checks ---------------------------------------------------------------------------
def _categories_by_title(catalog: str, runtime: RuntimeConfig) -> dict[str, set[str]]:
    from chatrec.datasets import load

    cat, _ = load(catalog, runtime.cache_dir)
    out: dict[str, set[str]] = {}
    for it in cat:
        out.setdefault(it.title, set()).update(it.categories)
    return out


def check_cross_talk(
    convs: Sequence[Conversation], people: Sequence[Person], titles: dict[str, set[str]]
) -> None:
    """Mark replies that show another person's products and identities that are another's."""
    for conv in convs:
        own = people[conv.person].wants
        others = set().union(*(p.wants for i, p in enumerate(people) if i != conv.person))
        theirs = {
            t for t, cats in titles.items() if not cats & own and cats & others and len(t) > 3
        }
        for res in conv.turns:
            shown = _CARD.findall(res.text)
            named = [t for t in shown if t in theirs] or (
                [] if shown else [t for t in theirs if t in res.text]
            )
            res.cross_talk += [f"shows another person's product: {t}" for t in named]
    owners: dict[str, int] = {}  # each person's name and session (from their first reply)
    for conv in convs:
        for key in (conv.user, conv.session):
            if key:
                owners.setdefault(key, conv.person)
    for conv in convs:
        for res in conv.turns:
            for key in {res.user, res.session} - {""}:
                if owners.get(key, conv.person) != conv.person:
                    res.cross_talk.append(f"got person {owners[key]}'s identity")


def check_histories(convs: Sequence[Conversation], db: Path) -> None:
    """Each person's saved session must hold exactly their own answered messages."""
    from chatrec.store import Store

    store = Store(f"sqlite:///{db}")
    try:
        for conv in convs:
            if not conv.user:
                continue
            said = [t["user"] for t in store.turns(conv.session, conv.user)]
            mine = {r.message for r in conv.turns}
            foreign = [m for m in said if m not in mine]
            if foreign:
                conv.turns[-1].cross_talk.append(f"the saved session holds {foreign!r}")
            for res in conv.turns:
                if not res.errors and res.message not in said:
                    res.errors.append("answered but missing from the saved session")
    finally:
        store.close()


# --- figures --------------------------------------------------------------------------
def _p(xs: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 3) if xs else None


def explanations(log_text: str) -> dict[str, int]:
    """Picks the language model explained, and those it left to templates because it was
    busy, as the server logged them (``chatrec.load.LOG_MODEL`` / ``LOG_BUSY``)."""

    def count(fmt: str) -> int:
        pattern = re.escape(fmt).replace("%d", r"(\d+)")
        return sum(int(m) for m in re.findall(pattern, log_text))

    return {"model": count(LOG_MODEL), "template_busy": count(LOG_BUSY)}


def summarize(convs: Sequence[Conversation], expl: dict[str, int]) -> dict[str, Any]:
    """Percentiles of the timings, error and cross-talk counts, the template share
    (``expl``: the phase's ``explanations``)."""
    results = [r for c in convs for r in c.turns]
    first = [r.first_text for r in results if r.first_text is not None and not r.errors]
    full = [r.full for r in results if r.full is not None and not r.errors]
    asked = expl["model"] + expl["template_busy"]
    return {
        "turns": len(results),
        "first_text_p50": _p(first, 50),
        "first_text_p95": _p(first, 95),
        "full_p50": _p(full, 50),
        "full_p95": _p(full, 95),
        "errors": sum(len(r.errors) for r in results),
        "cross_talk": sum(len(r.cross_talk) for r in results),
        "template_share": round(expl["template_busy"] / asked, 3) if asked else None,
        "explanations": expl,
        "problems": [
            {"person": r.person, "turn": r.turn, "message": r.message, "what": what}
            for r in results
            for what in [*r.errors, *(f"cross-talk: {x}" for x in r.cross_talk)]
        ][:50],
    }


def run_load(
    catalog: str = "store",
    people: int = 10,
    turns: int = 5,
    log: Path = Path("bench/load.serve.log"),
    llm: bool = True,
    runtime: RuntimeConfig | None = None,
    timeout: float = 300,
    think: float = 0.0,
) -> dict[str, Any]:
    """The whole benchmark (see the module docstring); returns the JSON-ready result.
    ``think``: seconds each person takes between a reply and their next message.

    Raises:
        ValueError: a catalog without conversations here, or more people or turns than the
            conversations hold.
    """
    cast = CONVERSATIONS.get(catalog)
    if cast is None:
        raise ValueError(f"bench load has conversations for: {', '.join(CONVERSATIONS)}")
    most = min(len(p.messages) for p in cast)
    if not 1 <= people <= len(cast) or not 1 <= turns <= most:
        raise ValueError(
            f"bench load on {catalog} takes 1 to {len(cast)} people and 1 to {most} turns"
        )
    runtime = runtime or RuntimeConfig()
    titles = _categories_by_title(catalog, runtime)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    result: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "catalog": catalog,
        "people": people,
        "turns": turns,
        "think_s": think,
        "cores": cores(),
        "llm": llm,
        "unit": "s",
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    phases = {"single": cast[:1], "load": cast[:people]}
    convs: dict[str, list[Conversation]] = {}
    expl: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "x.db"
        with served(db, log, llm, runtime.artifacts_dir.resolve()) as url:
            # Warm-up (not measured): the first turn pays for lazy loading.
            converse(url, 0, Person(frozenset(), (cast[0].messages[0],)), catalog, 1)
            for name, cast_ in phases.items():
                start = len(log.read_text(errors="replace"))
                convs[name] = run_people(url, cast_, catalog, turns, timeout, think)
                expl[name] = explanations(log.read_text(errors="replace")[start:])
        check_histories([c for cs in convs.values() for c in cs], db)
    for name, cast_ in phases.items():
        check_cross_talk(convs[name], cast_, titles)
        result[name] = summarize(convs[name], expl[name])
    text = log.read_text(errors="replace")
    result["tracebacks"] = sum(1 for ln in text.splitlines() if ln.startswith("Traceback"))
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    result["server_log"] = str(log)
    return result


def table(result: dict[str, Any]) -> str:
    """A short text table of ``run_load``'s result."""

    def s(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    rows = [
        f"{'':<12}{'first text p50':>15}{'p95':>7}{'full p50':>10}{'p95':>7}"
        f"{'errors':>8}{'cross-talk':>12}{'templates':>11}"
    ]
    for name, n in (("single", 1), ("load", result["people"])):
        r = result[name]
        share = "-" if r["template_share"] is None else f"{100 * r['template_share']:.0f}%"
        rows.append(
            f"{f'{name} ({n})':<12}{s(r['first_text_p50']):>15}{s(r['first_text_p95']):>7}"
            f"{s(r['full_p50']):>10}{s(r['full_p95']):>7}{r['errors']:>8}{r['cross_talk']:>12}"
            f"{share:>11}"
        )
    rows.append(
        f"{result['people']} people x {result['turns']} turns, thinking "
        f"{result.get('think_s', 0):g} s between them, {result['cores']} cores, seconds; "
        f"server tracebacks: {result['tracebacks']} ({result['server_log']}); load average "
        f"{result['loadavg_before']} -> {result['loadavg_after']}"
    )
    return "\n".join(rows)
