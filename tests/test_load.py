"""Serving under load (``chatrec.load``): the picks never wait behind anybody's explanations,
a busy language model gives checked templates instead of a wait, and one person alone gets
the model's explanations as before."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from chatrec import turn_concurrency
from chatrec.explain import template
from chatrec.load import Gate, Gates, cores, in_passing_thread
from chatrec.recommender import ChatRecommender
from chatrec.types import Reply

TV = "A fine TVs choice, in the aisle you described today."
LAPTOP = "A fine laptop choice for the work you described today."


class Writer:
    """A stand-in language model: "A fine <category> choice ..." for each prompt's item, word by
    word. With ``hold`` set, it blocks after its first word until ``release`` is set."""

    def __init__(self, hold: bool = False):
        self.calls = 0
        self.hold = hold
        self.started = threading.Event()
        self.release = threading.Event()

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return "\n".join(m["content"] for m in messages)

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 48,
        allowed=None,
        one_sentence=False,
        seed=None,
        allowed_words=None,
    ) -> Iterator[tuple[int, str]]:
        self.calls += 1
        texts = [(TV if "TV" in p else LAPTOP) for p in prompts]
        for step in range(len(texts[0].split())):
            for row, text in enumerate(texts):
                yield row, (" " if step else "") + text.split()[step]
            if step == 0 and self.hold:
                self.started.set()
                assert self.release.wait(10), "the test never released the model"


def _rec(tiny: ChatRecommender, writer: Writer, gates: Gates) -> ChatRecommender:
    return ChatRecommender(
        tiny.bundle, tiny.embedder, tiny.lexicon, explain_generator=writer, gates=gates
    )


def _free(gate: Gate) -> bool:
    with gate.try_hold(0) as free:
        return free


@pytest.fixture
def gates() -> Gates:
    return Gates(Gate("picks", 1), Gate("explain", 1), explain_wait=0.05)


def test_alone_the_model_explains_as_before(tiny_recommender: ChatRecommender, gates) -> None:
    writer = Writer()
    reply = _rec(tiny_recommender, writer, gates).chat("a TV under $500", "s")
    assert writer.calls == 1
    assert [i.source for i in reply.items[:3]] == ["llm"] * 3
    assert reply.items[0].explanation == TV
    assert all(i.source == "template" for i in reply.items[3:])  # beyond n_llm, as always
    assert _free(gates.explain) and _free(gates.picks)  # both places given back


def test_a_busy_model_gives_checked_templates_at_once(
    tiny_recommender: ChatRecommender, gates: Gates
) -> None:
    writer = Writer()
    rec = _rec(tiny_recommender, writer, gates)
    with gates.explain.hold():  # somebody else's explanations
        t0 = time.perf_counter()
        reply = rec.chat("a TV under $500", "s")
        waited = time.perf_counter() - t0
    assert writer.calls == 0 and waited < 2
    assert reply.items and all(i.source == "template" for i in reply.items)
    c = rec.session("s").constraints
    item = rec.catalog.get(reply.items[0].item_id)
    assert reply.items[0].explanation == template(item, c)
    assert reply.items[0].explanation in reply.text  # the person sees it
    # The picks are the same as with a free model: only who wrote the reasons differs.
    alone = rec.chat("a TV under $500", "t")
    assert [i.item_id for i in alone.items] == [i.item_id for i in reply.items]
    assert alone.items[0].source == "llm"


def test_picks_never_wait_behind_someone_elses_explanations(
    tiny_recommender: ChatRecommender, gates: Gates
) -> None:
    writer = Writer(hold=True)
    rec = _rec(tiny_recommender, writer, gates)
    first: list[Reply] = []
    ann = threading.Thread(target=lambda: first.append(rec.chat("a TV under $500", "ann")))
    ann.start()
    try:
        assert writer.started.wait(10)  # Ann's explanations are being written ...
        t0 = time.perf_counter()
        bob = rec.chat("a laptop", "bob")  # ... and Bob gets his picks and their reasons now
        assert time.perf_counter() - t0 < 2 and ann.is_alive()
        assert bob.items and all("Laptops" in i.attributes["categories"] for i in bob.items)
        assert all(i.source == "template" for i in bob.items)
    finally:
        writer.release.set()
        ann.join(10)
    assert first and first[0].items[0].source == "llm"
    assert first[0].items[0].explanation == TV


def test_the_pick_stage_waits_for_its_place(
    tiny_recommender: ChatRecommender, gates: Gates
) -> None:
    rec = _rec(tiny_recommender, Writer(), gates)
    got: list[Reply] = []
    with gates.picks.hold():  # every place of the pick stage is taken
        t = threading.Thread(target=lambda: got.append(rec.chat("a TV under $500", "s")))
        t.start()
        t.join(0.3)
        assert t.is_alive() and not got  # it waits; it is not refused
    t.join(10)
    assert got and got[0].items


def test_a_turn_left_halfway_frees_the_model(
    tiny_recommender: ChatRecommender, gates: Gates
) -> None:
    rec = _rec(tiny_recommender, Writer(), gates)
    stream = rec.chat_stream("a TV under $500", "s")
    for reply in stream:
        if reply.streaming_explanation:
            break
    assert not _free(gates.explain)  # the model is writing for this turn
    stream.close()  # the person left
    assert _free(gates.explain)


def test_gates_and_the_turn_pool_are_sized_from_the_cores() -> None:
    assert cores() == len(os.sched_getaffinity(0))
    two = Gates.for_cores(2)
    assert (two.picks.size, two.explain.size) == (2, 1)  # 2 cores: one generation at a time
    assert (Gates.for_cores(16).picks.size, Gates.for_cores(16).explain.size) == (16, 8)
    assert Gates.for_cores(1).explain.size == 1
    assert turn_concurrency(2) == 16 and turn_concurrency() == 8 * cores()
    with pytest.raises(ValueError, match="at least 1"):
        Gate("picks", 0)


def test_a_gate_holds_at_most_its_size() -> None:
    gate = Gate("explain", 2)
    with gate.hold(), gate.try_hold(0) as second:
        assert second
        with gate.try_hold(0.01) as third:
            assert not third
    assert _free(gate)


def test_every_turn_event_shares_the_larger_pool() -> None:
    from ui.app import build_app
    from ui.handlers import Recommenders

    demo = build_app(Recommenders())  # wiring loads no recommender
    fns = list(demo.fns.values())
    chat = next(fn for fn in fns if fn.api_name == "chat")
    turns = [fn for fn in fns if fn.concurrency_id == "turn"]
    assert chat in turns and chat.concurrency_limit == turn_concurrency()
    # The message box, the send button, the examples, onboarding and the 3 buttons of each card.
    names = {getattr(fn.fn, "__name__", "") for fn in turns}
    assert {"say", "onboard", "handler", "chat_api"} <= names
    assert all(fn.concurrency_limit == turn_concurrency() for fn in turns)
    others = [fn for fn in fns if fn not in turns]
    assert others and all(fn.concurrency_id != "turn" for fn in others)


class Retrier(Writer):
    """Writes a text the checker rejects (an invented rating), then, asked again with a
    seed, a good one."""

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 48,
        allowed=None,
        one_sentence=False,
        seed=None,
        allowed_words=None,
    ) -> Iterator[tuple[int, str]]:
        self.calls += 1
        seeds = list(seed) if isinstance(seed, Sequence) else [seed] * len(prompts)
        bad = "A fine TVs choice, rated 9.9 out of 5 by its fans."
        texts = [TV if s is not None else bad for s in seeds]
        for step in range(max(len(t.split()) for t in texts)):
            for row, text in enumerate(texts):
                if step < len(text.split()):
                    yield row, (" " if step else "") + text.split()[step]


def test_a_rejected_text_streams_again_in_place(tiny_recommender: ChatRecommender, gates) -> None:
    writer = Retrier()
    shown = []
    for reply in _rec(tiny_recommender, writer, gates).chat_stream("a TV under $500", "s"):
        if reply.items:
            shown.append(reply.items[0].explanation)
    assert writer.calls == 1  # one batch: each pick greedy and sampled (``candidates``)
    assert any("9.9" in s for s in shown)  # the first text streamed ...
    assert not any("9.9" in s and "today" in s for s in shown)  # ... and was dropped, not added to
    assert shown[-1] == TV and reply.items[0].source == "llm" and reply.items[0].tries == 2


def test_a_load_in_a_passing_thread_gives_its_result_and_its_error() -> None:
    threads: list[threading.Thread] = []

    def load() -> str:
        threads.append(threading.current_thread())
        return "loaded"

    assert in_passing_thread(load) == "loaded"
    assert threads[0] is not threading.current_thread() and not threads[0].is_alive()

    def broken() -> None:
        raise ValueError("catalog row 3: no title")

    with pytest.raises(ValueError, match="row 3"):
        in_passing_thread(broken)
