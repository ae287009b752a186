"""Explanations: generated ones are checked (numbers, titles, content); templates are faithful."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace

import pytest

from chatrec.catalog import Catalog, Item
from chatrec.config import ExplainConfig
from chatrec.explain import Explainer, check, finish, opener, template
from chatrec.facts import fact_numbers, facts_text, invented_numbers, numbers_in
from chatrec.load import BUSY, Gate
from chatrec.prompts import render_messages
from chatrec.types import Constraints, Evidence, Pull


class ScriptedGenerator:
    """Answers each prompt with the scripted text of the first title found in it; a script
    of two texts gives the second to a second try (a call with a ``seed``)."""

    def __init__(self, script: dict[str, str | tuple[str, str]]):
        self.script = script
        self.batches: list[int] = []
        self.seeds: list[int | None] = []
        self.allowed: list[set[str]] = []
        self.words: list[set[str]] = []

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return "\n".join(f"<{m['role']}>{m['content']}" for m in messages) + "\n<assistant>"

    def _answer(self, prompt: str, seed: int | None) -> str:
        said = next(text for title, text in self.script.items() if title in prompt)
        return said if isinstance(said, str) else said[seed is not None]

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers=None,
        one_sentence: bool = False,
        seed: int | Sequence[int | None] | None = None,
        allowed_words=None,
    ) -> Iterator[tuple[int, str]]:
        self.batches.append(len(prompts))
        self.seeds.append(seed)
        self.allowed = [set(a) for a in allowed_numbers or []]
        self.words = [set(a) for a in allowed_words or []]
        seeds = list(seed) if isinstance(seed, Sequence) else [seed] * len(prompts)
        answers = [self._answer(p, s) for p, s in zip(prompts, seeds, strict=True)]
        for step in range(max(len(a.split()) for a in answers)):
            for row, a in enumerate(answers):
                words = a.split()
                if step < len(words):
                    yield row, (" " if step else "") + words[step]


class TitleLookup:
    """Exact title matching over a catalog, standing in for the real TitleMatcher."""

    def __init__(self, catalog: Catalog):
        self.titles = {it.title: it.id for it in catalog}

    def foreign(self, text: str, allowed: Iterable[str]) -> list[SimpleNamespace]:
        found = {i for t, i in self.titles.items() if t in text} - set(allowed)
        return [SimpleNamespace(item_id=i) for i in sorted(found)]


@pytest.fixture
def tvs(tiny_catalog: Catalog) -> list[Item]:
    return [tiny_catalog.get(i) for i in ("tv1", "tv3", "tv4")]


def test_facts_text_holds_the_numbers_a_card_shows(tvs: list[Item]) -> None:
    text = facts_text(tvs[2])
    assert "$449.99–$549.99" in text and "4.4 out of 5" in text and "300 ratings" in text
    assert {"449.99", "549.99", "4.4", "300", "55"} <= fact_numbers(tvs[2])


def test_numbers_are_compared_as_written_values() -> None:
    assert numbers_in("costs $2,499.99, rated 3.80, 1,200 reviews") == [
        "$2499.99",
        "3.8",
        "1200",
    ]
    item = Item(id="x", title='Box 2, 50" screen', price=10.5, rating=4.0, review_count=1200)
    assert invented_numbers("It costs $10.50 and 1,200 people rated it 4.", item) == []
    assert invented_numbers("It costs $9 with 2 year warranty", item) == ["$9"]
    # A "$" amount must be a price: the 50 of a 50" screen is no price.
    assert invented_numbers("A TV under $50 with a 50 inch screen.", item) == ["$50"]


def test_finish_keeps_whole_sentences_only() -> None:
    assert finish("A fine TV. It is cheap. And more. Cut") == "A fine TV. It is cheap."
    assert finish("no sentence ends here") == ""
    cut = "A laptop with a fast processor, a big screen and long battery life, GeForce M"
    assert finish(cut) == "A laptop with a fast processor, a big screen and long battery life."
    assert finish("Costs $3.50 today.") == "Costs $3.50 today."


def test_check_rejects_invented_numbers_other_titles_and_empty_talk(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    lookup = TitleLookup(tiny_catalog)
    tv = tvs[0]
    assert check("A 4K LED TV with smart apps at $299.99, rated 4.3.", tv, lookup) == []
    cheap = check("It costs just $199 for a 4K TV.", tv, lookup)
    assert cheap == ["numbers not in the facts: $199"]
    other = tiny_catalog.get("tv2").title  # its numbers differ too; both problems are named
    problems = check(f"Better than the {other} for your room.", tv, lookup)
    assert any(p == "names other catalog items: tv2" for p in problems)
    assert check("This item meets the criteria for the request.", tv, lookup) == [
        "says nothing about the item"
    ]
    assert check('Like "Blade Runner", this 4K LED TV has smart apps.', tv, lookup) == [
        "quotes something that is not this item: 'Blade Runner'",
        "names what the facts do not: Blade, Runner",
    ]
    assert check('The "Acme 50" 4K LED TV has smart apps.', tv, lookup) == []
    assert check("A 4K LED TV under $2,99.99 with smart apps.", tv, lookup)[0] == (
        "badly written numbers: 2,99.99"
    )
    film = Item(id="m1", title="Vertigo (1958)", year=1958, categories=("Thriller",))
    assert check("Vertigo (1958) is a Thriller that came out in 1958.", film, lookup) == []
    assert check("A Thriller starring James Bond (1958) in 1958.", film, lookup)[0] == (
        "names a title that is not this item: 'A Thriller starring James Bond (1958)'"
    )
    rules = "Use only the facts given and never name any other title please."
    said = "I must use only the facts given and never name any other title, 4K TV."
    assert "repeats the instructions" in check(said, tv, lookup, rules)


def test_template_quotes_only_the_items_own_numbers(tiny_catalog: Catalog) -> None:
    asked = Constraints(price_max=500, categories=("TVs",), year_min=1990, year_max=1999)
    for item in tiny_catalog:
        text = template(item, asked)
        assert invented_numbers(text, item) == [], (item.id, text)
        assert text.endswith(".")
    assert "within your budget" in template(tiny_catalog.get("tv1"), asked)


def test_generated_explanations_are_batched_checked_and_replaced(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    gen = ScriptedGenerator(
        {
            tvs[0].title: "A 4K LED TV with smart apps, rated 4.3 by 120 people. Extra words",
            tvs[1].title: "An HD LED TV for only $99 that fits your room.",
            tvs[2].title: "A QLED TV with smart apps and an average rating of 4.4.",
        }
    )
    cfg = ExplainConfig(n_llm=2, candidates=1)
    ex = Explainer(gen, cfg, TitleLookup(tiny_catalog), kind="product")
    out = ex.explain("a tv under $500", ["Acme Noise Cancelling Headphones"], tvs, Constraints())
    # The two texts came from ONE batch; the rejected one was written once more (alone).
    assert gen.batches == [2, 1] and gen.seeds == [None, 1]
    assert gen.allowed[0] == fact_numbers(tvs[1])  # decoding was told the allowed numbers
    # ... and the allowed words: the prompt's (the request, the liked title, the pick's facts),
    # the connecting ones, and nothing a claim could be made of that the prompt does not hold
    assert {"tv", "tvs", "headphones", "cancelling", "rated", "budget"} <= gen.words[0]
    assert not {"beach", "classic", "family", "weighs", "i", "my"} & gen.words[0]
    assert out[0].source == "llm" and out[0].tries == 1
    assert out[0].text == "A 4K LED TV with smart apps, rated 4.3 by 120 people."
    assert out[1].source == "template" and "99" in out[1].problems[0] and out[1].tries == 2
    assert out[1].text == template(tvs[1], Constraints())
    assert out[2].source == "template" and out[2].problems == ()  # beyond n_llm


def test_a_rejected_text_is_written_once_more_before_the_template(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    fixed = "A 4K LED TV with smart apps, rated 4.3 out of 5 from 120 ratings."
    gen = ScriptedGenerator(
        {
            tvs[0].title: ("A 4K LED TV with smart apps, rated 4.3 by 12 people.", fixed),
            tvs[1].title: ("An HD LED TV for only $99 that fits your room.", "An HD TV, $89."),
        }
    )
    cfg = ExplainConfig(n_llm=2, candidates=1)
    ex = Explainer(gen, cfg, TitleLookup(tiny_catalog), kind="product")
    events = list(ex.stream("a tv", [], tvs[:2], Constraints()))
    assert gen.batches == [2, 2] and gen.seeds == [None, 1]  # sampled with another seed
    restarts = [e for e in events if e.restart]
    assert [e.index for e in restarts] == [0, 1] and all(e.text == "" for e in restarts)
    # What streams after the restart is the second text, which replaces the first.
    after = events[events.index(restarts[-1]) :]
    assert "".join(e.text for e in after if e.index == 0 and not e.final) == fixed
    finals = [e for e in events if e.final]
    assert (finals[0].source, finals[0].text, finals[0].tries) == ("llm", fixed, 2)
    # Both tries rejected: the template, with why each try was.
    assert (finals[1].source, finals[1].tries) == ("template", 2)
    assert finals[1].text == template(tvs[1], Constraints())
    assert any("$99" in p for p in finals[1].problems)
    assert "4 words (8 to 35)" in finals[1].problems and "$89" in str(finals[1].problems)


def test_two_candidates_in_one_batch_the_first_that_passes_is_shown(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    good = "A 4K LED TV with smart apps, rated 4.3 out of 5 from 120 ratings."
    sampled = "An HD LED TV with smart apps, rated 3.9 out of 5 from 45 ratings."
    gen = ScriptedGenerator(
        {
            tvs[0].title: (good, "A different 4K LED TV text with smart apps, rated 4.3."),
            tvs[1].title: ("An HD LED TV for only $99 that fits your room.", sampled),
        }
    )
    cfg = ExplainConfig(n_llm=2, candidates=2, retry_within_s=None)
    events = list(
        Explainer(gen, cfg, TitleLookup(tiny_catalog)).stream("a tv", [], tvs[:2], Constraints())
    )
    # ONE batch: each pick greedy, then each sampled (seed retry_seed); no second batch.
    assert gen.batches == [4] and gen.seeds == [[None, None, 1, 1]]
    streamed = "".join(e.text for e in events if e.index == 1 and not e.final)
    assert streamed == "An HD LED TV for only $99 that fits your room."  # the greedy one streams
    finals = [e for e in events if e.final]
    assert (finals[0].source, finals[0].text, finals[0].tries) == ("llm", good, 1)
    # The greedy text invented a price; the sampled one passed and replaces it.
    assert (finals[1].source, finals[1].text, finals[1].tries) == ("llm", sampled, 2)
    assert not any(e.restart for e in events)


class LeadGenerator(ScriptedGenerator):
    """Greedy rows get the script's text; a row whose prompt ends in an opener (the assistant
    turn already begun) gets the words that finish it."""

    def _answer(self, prompt: str, seed: int | None) -> str:
        if not prompt.endswith("<assistant>"):
            return " went on to rate this 1986 Sci-Fi film 4.1★ on average."
        return super()._answer(prompt, seed)


def test_a_pick_a_liked_film_pulled_up_gets_a_candidate_that_names_it() -> None:
    aliens = Item(id="b", title="Aliens (1986)", year=1986, categories=("Action", "Sci-Fi"),
                  rating=3.9, review_count=80)  # fmt: skip
    babe = Item(id="c", title="Babe (1995)", year=1995, categories=("Comedy",), rating=3.5,
                review_count=60)  # fmt: skip
    alien = Pull("a", "Alien (1979)", 212, 61, 4.1, 0.2)
    ev = [Evidence("b", {}, (alien,)), Evidence("c", {})]
    plain = "A 1986 Action and Sci-Fi film, rated 3.9 out of 5 from 80 ratings."
    gen = LeadGenerator({aliens.title: plain, babe.title: "A 1995 Comedy, rated 3.5 out of 5."})
    cfg = ExplainConfig(n_llm=2, candidates=2, retry_within_s=None)
    out = Explainer(gen, cfg).explain("sci-fi", ["Alien (1979)"], [aliens, babe], Constraints(), ev)
    # Both Aliens candidates pass; the one naming the liked film behind it is shown.
    lead = opener(ev[0], "b")
    assert lead and "Alien" in lead and out[0].text.startswith(lead) and out[0].tries == 2
    assert out[0].text.endswith("went on to rate this 1986 Sci-Fi film 4.1★ on average.")
    assert out[1].text == "A 1995 Comedy, rated 3.5 out of 5."  # no pull: no opener
    assert gen.seeds == [[None, None, None, 1]]  # the opener's row is greedy, Babe's sampled
    assert opener(ev[1], "c") == "" and opener(None, "c") == ""
    off = ExplainConfig(n_llm=2, candidates=2, retry_within_s=None, lead_with_pull=False)
    again = Explainer(LeadGenerator(gen.script), off).explain(
        "sci-fi", ["Alien (1979)"], [aliens, babe], Constraints(), ev
    )
    assert again[0].text == plain


def test_a_year_in_a_liked_title_is_no_repetition() -> None:
    """The template of a 1993 pick pulled up by a 1993 film says 1993 twice, once as a name."""
    film = Item(id="202", title="Groundhog Day (1993)", year=1993, categories=("Comedy",),
                rating=3.76, review_count=280)  # fmt: skip
    ev = Evidence("202", {}, (Pull("82", "Jurassic Park (1993)", 162, 115, 4.0, 0.2),))
    text = (
        "Of the 162 people who loved Jurassic Park (1993), 115 rated this too, 4.0★ on average. "
        "It came out in 1993, in the years you asked for."
    )
    assert "repeats itself" not in check(text, film, None, evidence=ev)
    assert "repeats itself" in check("A 1993 comedy from 1993, rated 3.76 out of 5.", film, None)


def test_no_second_try_when_it_is_off_or_there_is_no_time(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    script = {tvs[0].title: ("An HD LED TV for only $99 that fits your room.", "x")}
    for cfg in (
        ExplainConfig(n_llm=1, candidates=1, retry=False),
        ExplainConfig(n_llm=1, candidates=1, retry_within_s=1e-9),
    ):
        gen = ScriptedGenerator(script)
        out = Explainer(gen, cfg, TitleLookup(tiny_catalog)).explain(
            "a tv", [], tvs[:1], Constraints()
        )
        assert gen.batches == [1] and out[0].source == "template" and out[0].tries == 1


def test_stream_yields_pieces_then_final_texts_in_item_order(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    gen = ScriptedGenerator(
        {
            it.title: f"A fine {it.categories[0]} choice, in the aisle you described today."
            for it in tvs
        }
    )
    ex = Explainer(gen, ExplainConfig(n_llm=3), TitleLookup(tiny_catalog))
    events = list(ex.stream("a tv", [], tvs, Constraints()))
    pieces = [e for e in events if not e.final]
    finals = [e for e in events if e.final]
    assert pieces and events.index(finals[0]) > events.index(pieces[-1])
    assert [e.index for e in finals] == [0, 1, 2]
    assert (
        "".join(p.text for p in pieces if p.index == 1)
        == "A fine TVs choice, in the aisle you described today."
    )


def test_without_a_generator_every_item_gets_its_template(tvs: list[Item]) -> None:
    out = Explainer(None).explain("a tv", [], tvs, Constraints(price_max=500))
    assert [e.source for e in out] == ["template"] * 3
    assert out[0].text == template(tvs[0], Constraints(price_max=500))


def test_explain_prompt_renders_with_and_without_history(tvs: list[Item]) -> None:
    msgs = render_messages(
        "explain",
        kind="product",
        wishes="a tv under $500",
        history=["Acme Headphones"],
        title=tvs[0].title,
        facts=facts_text(tvs[0]),
    )
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert "a tv under $500" in msgs[1]["content"] and tvs[0].title in msgs[1]["content"]
    assert "They liked: Acme Headphones" in msgs[1]["content"]
    bare = render_messages(
        "explain", kind="film", wishes="x", history=[], title="T", facts="released 1999"
    )
    assert "They liked" not in bare[1]["content"] and "film" in bare[0]["content"]


def test_check_rejects_a_liking_the_person_never_stated() -> None:
    contact = Item(id="m1", title="Contact (1997)", year=1997, categories=("Sci-Fi", "Drama"))
    # What the fine-tuned model wrote for a new guest with no history (stop 11's make run).
    said = "Contact (1997) is a 1997 film from 1997 that you liked."
    assert check(said, contact, None) == [
        "claims a history the person does not have: 'you liked'",
        "repeats itself",  # "a 1997 film from 1997"
    ]
    for text in (
        "A Sci-Fi Drama from 1997, like the films you've enjoyed.",
        "Your favourite kind of Sci-Fi: a Drama from 1997.",
    ):
        assert check(text, contact, None)[0].startswith("claims a history"), text
    # With a history, a claim about what they liked is allowed, but not about this very item:
    # a recommendation is something they have not had.
    liked = ["Star Wars (1977)"]
    ok = "A 1997 Sci-Fi Drama, like the space films you liked."
    assert check(ok, contact, None, history=liked) == []
    assert check(said, contact, None, history=liked) == [
        "says the person already had this item: 'you liked'",
        "repeats itself",
    ]
    assert check("Since you loved Contact (1997), a Sci-Fi Drama.", contact, None, history=liked)
    assert check("A Sci-Fi Drama from 1997, for you to watch tonight.", contact, None) == []


def test_an_explanation_claiming_a_history_falls_back_to_the_template(
    tiny_catalog: Catalog, tvs: list[Item]
) -> None:
    said = f"The {tvs[0].title} is a 4K LED TV that you bought before."
    gen = ScriptedGenerator({tvs[0].title: said})
    ex = Explainer(gen, ExplainConfig(n_llm=1), TitleLookup(tiny_catalog), kind="product")
    guest = ex.explain("a tv", [], tvs[:1], Constraints())[0]
    assert guest.source == "template" and guest.text == template(tvs[0], Constraints())
    assert guest.problems[0].startswith("claims a history the person does not have")


def test_check_rejects_invented_people_praise_and_repetition() -> None:
    """What the base and the fine-tuned SmolLM2 wrote for real picks (2026-11-24)."""
    film = Item(id="m", title="Contact (1997)", year=1997, categories=("Drama", "Sci-Fi"))
    west = Item(id="w", title="The Wild Bunch (1969)", year=1969, categories=("Western",))
    wish = "an old western"
    assert check("Contact (1997) is a 1997 sci-fi film directed by John Wick.", film, None) == [
        "says what the facts do not hold: directed",
        "names what the facts do not: John, Wick",
    ]
    praised = "The Wild Bunch (1969) is a classic western film that has been widely praised."
    assert check(praised, west, None, request=wish) == [
        "says what the facts do not hold: praised",
        "praises beyond the facts: classic, widely",
    ]
    loop = "The Wild Bunch (1969) is a 1969 film from 1969, a film from 1969, a film from 1969."
    assert check(loop, west, None, request=wish) == ["repeats itself"]
    assert check("A Western from 1969 that came out in France.", west, None, request=wish) == [
        "names what the facts do not: France"
    ]
    # Names from the title, the facts or the request are the person's own words: allowed.
    fine = "The Wild Bunch (1969) is a Western, the old kind you asked for."
    assert check(fine, west, None, request=wish) == []
    war = Item(id="c", title="Casablanca (1942)", year=1942, categories=("Drama", "War"))
    said = "Casablanca (1942) is a War drama from 1942, for your World War Two wish."
    assert check(said, war, None, request="a film about world war two") == []


def test_check_rejects_a_genre_the_item_does_not_have() -> None:
    genres = ("Comedy", "Drama", "Film-Noir", "Horror", "Mystery", "Sci-Fi")
    mst = Item(
        id="m",
        title="Mystery Science Theater 3000: The Movie (1996)",
        year=1996,
        categories=("Comedy", "Sci-Fi"),
    )
    said = f"{mst.title} is a comedy-drama film with elements of sci-fi and horror."
    assert check(said, mst, None, categories=genres) == [
        "gives it a category it does not have: Drama, Horror"
    ]
    # Its own title says "Mystery": that is no claim of the genre.
    assert check(f"{mst.title} is a Sci-Fi Comedy from 1996.", mst, None, categories=genres) == []
    wolf = Item(
        id="w",
        title="An American Werewolf in London (1981)",
        year=1981,
        categories=("Comedy", "Horror"),
    )
    noir = "An American Werewolf in London (1981) is a horror film from the 1981 film noir."
    assert check(noir, wolf, None, categories=genres) == [
        "gives it a category it does not have: Film-Noir"
    ]


def test_a_busy_model_leaves_every_pick_to_its_template(tvs: list[Item]) -> None:
    gen = ScriptedGenerator(
        {
            it.title: f"A fine {it.categories[0]} choice, in the aisle you described today."
            for it in tvs
        }
    )
    gate = Gate("explain", 1)
    ex = Explainer(gen, ExplainConfig(n_llm=2), gate=gate, wait=0.01)
    asked = Constraints(price_max=500)
    with gate.hold():  # another turn's explanations
        out = ex.explain("a tv", [], tvs, asked)
    assert gen.batches == []  # the model was not asked
    assert [e.source for e in out] == ["template"] * 3
    assert [e.text for e in out] == [template(it, asked) for it in tvs]
    assert [e.problems for e in out] == [(BUSY,), (BUSY,), ()]  # the third was never the model's


def test_a_free_model_explains_and_gives_its_place_back(tvs: list[Item]) -> None:
    gen = ScriptedGenerator(
        {
            it.title: f"A fine {it.categories[0]} choice, in the aisle you described today."
            for it in tvs
        }
    )
    gate = Gate("explain", 1)
    ex = Explainer(gen, ExplainConfig(n_llm=2), gate=gate, wait=0.01)
    stream = ex.stream("a tv", [], tvs, Constraints())
    next(stream)  # the first piece: the model holds the gate while it writes
    with gate.try_hold(0) as free:
        assert not free
    out = [e for e in stream if e.final]
    assert [e.source for e in out] == ["llm", "llm", "template"]
    assert out[0].text == "A fine TVs choice, in the aisle you described today."
    with gate.try_hold(0) as free:
        assert free


def test_guard_words_are_the_prompts_words_in_both_numbers_and_the_linking_words() -> None:
    from chatrec.explain import CONNECTING, guard_words

    allowed = guard_words("Request: a comedy for my dad\nFilm: Se7en (1995)\nFacts: 4K TVs.")
    assert {"comedy", "comedies", "dad", "dads", "se", "en", "tv", "tvs", "k"} <= allowed
    assert allowed >= CONNECTING and not {"beach", "twist", "gentle"} & allowed
