"""Evidence: why a pick is where it is, from the numbers that put it there."""

from __future__ import annotations

import numpy as np
import pytest

from chatrec.catalog import Catalog, Item
from chatrec.config import RuntimeConfig
from chatrec.eval.explanations import score
from chatrec.evidence import CoLiked, Evidencer, gather, matches
from chatrec.explain import check, template
from chatrec.types import Candidate, Constraints, Evidence, Pull

FILMS = Catalog(
    "films",
    [
        Item(id="a", title="Alien (1979)", year=1979, categories=("Horror", "Sci-Fi")),
        Item(id="b", title="Aliens (1986)", year=1986, categories=("Action", "Sci-Fi")),
        Item(id="c", title="Babe (1995)", year=1995, categories=("Children's", "Comedy")),
        Item(id="d", title="Heat (1995)", year=1995, categories=("Action", "Crime")),
    ],
)
# Five people: three loved Alien and Aliens, one loved Alien and rated Heat 2, one loved Babe.
SEQS = [np.array([0, 1]), np.array([0, 1]), np.array([0, 1, 3]), np.array([2]), np.array([0, 3])]
RATS = [np.array([5.0, 4.0]), np.array([4.0, 5.0]), np.array([4.0, 3.0, 2.0]), np.array([5.0])]
RATS.append(np.array([5.0, 2.0]))


@pytest.fixture
def coliked() -> CoLiked:
    return CoLiked.fit(SEQS, RATS, len(FILMS))


def test_coliked_counts_real_people(coliked: CoLiked) -> None:
    assert coliked.fans.tolist() == [4, 2, 1, 0]  # loved: rated 4 or more
    assert coliked.loved[0, 1] == 2 and coliked.rated[0, 1] == 3 and coliked.stars[0, 1] == 12
    (pull,) = coliked.pulls(FILMS, [0], 1)
    assert (pull.title, pull.fans, pull.also, round(pull.mean, 1)) == ("Alien (1979)", 4, 3, 4.0)
    assert pull.sentence() == (
        "of the 4 people who loved Alien (1979), 3 rated this too, 4.0★ on average"
    )
    # Heat: two people who loved Alien rated it, fewer than MIN_ALSO: no evidence to say.
    assert coliked.pulls(FILMS, [0], 3) == []


def test_pulls_can_leave_one_person_out(coliked: CoLiked) -> None:
    """A training example about a person never counts them among the people behind a pull."""
    (pull,) = coliked.pulls(FILMS, [0], 1, without={0: 5.0, 3: 2.0})  # the fifth person
    assert (pull.fans, pull.also, round(pull.mean, 1)) == (3, 3, 4.0)  # never rated Aliens
    # The first person loved both: without them only 2 of 3 fans rated Aliens, too few.
    assert coliked.pulls(FILMS, [0], 1, without={0: 5.0, 1: 4.0}) == []


def test_boost_reorders_by_coliking_and_the_parts_sum_to_the_score(coliked: CoLiked) -> None:
    ev = Evidencer(FILMS, coliked)
    pool = [
        Candidate(FILMS.items[r], s, r, {"text": s}) for r, s in ((2, 0.50), (3, 0.49), (1, 0.48))
    ]
    assert ev.boost(pool, []) == pool  # nobody liked anything: unchanged
    out = ev.boost(pool, ["a"])
    assert out[0].item.id == "b"  # Aliens: the people who loved Alien loved it
    for c in out:
        assert sum(c.parts.values()) == pytest.approx(c.score)
        assert set(c.parts) == {"text", "collab"}
    (picked,) = ev.gather(out[:1], ["a"], Constraints(categories=("Sci-Fi",)), ["sci-fi"])
    assert picked.pulls[0].title == "Alien (1979)" and picked.matches == ("it is in Sci-Fi",)
    assert picked.score == pytest.approx(out[0].score)


def test_matches_say_what_the_request_asked_in_words() -> None:
    tv = Item(
        id="t",
        title='Acme 55" 4K TV with Dolby Vision',
        price=399.99,
        categories=("TVs",),
        attributes={"screen": 55, "features": ["Dolby Vision HDR"]},
    )
    from chatrec.types import Spec

    c = Constraints(categories=("TVs",), price_max=500, specs=(Spec("screen", 50, None),))
    said = matches(tv, c, ["a tv with dolby vision"])
    assert said == [
        "it is in TVs",
        "at $399.99 it is within the $500 budget",
        "its screen is 55, as asked",
        "its listing says “dolby vision”",
    ]
    assert matches(tv, Constraints(exclude_categories=("Laptops", "Phones")), []) == [
        "it is not Laptops or Phones"
    ]


def test_the_template_and_the_checker_use_the_evidence() -> None:
    item = FILMS.get("b")
    pull = Pull("a", "Alien (1979)", 212, 61, 4.1, 0.2)
    ev = gather(item, {"text": 0.5}, Constraints(categories=("Sci-Fi",)), [], [pull])
    text = template(item, Constraints(categories=("Sci-Fi",)), ev)
    assert text.startswith("Of the 212 people who loved Alien (1979), 61 rated this too")
    assert check(text, item, None, evidence=ev) == []
    # Without the evidence, the same text names another film and numbers nobody gave.
    assert check(text, item, None) != []
    said = "People who loved Alien rated it 4.1★ on average; it is Sci-Fi from 1986."
    assert check(said, item, None, evidence=ev) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Aliens (1986) is a classic Sci-Fi film that stands out.", "praises beyond the facts"),
        ("Aliens (1986) follows a crew of marines in a Sci-Fi war.", "talks of the story"),
        ("Aliens (1986) is a Sci-Fi favourite of mine from 1986.", "speaks of its own taste"),
        ("Aliens (1986) is a Sci-Fi film well within your budget.", "states a budget"),
        ("Aliens (1986) is Sci-Fi, rated 4.ooh on average.", "badly written numbers"),
        ("A 1986 Sci-Fi film from 1986, for your request.", "repeats itself"),
    ],
)
def test_the_checker_flags_claims_the_facts_do_not_hold(text: str, problem: str) -> None:
    problems = check(text, FILMS.get("b"), None, request="a sci-fi film")
    assert any(p.startswith(problem) for p in problems), problems


def test_the_eval_figures() -> None:
    texts = [
        {"text": "Of the 4 people who loved Alien, 3 rated this too.", "source": "llm"},
        {"text": "It is in Comedy, as you asked.", "source": "template"},
        {"text": "A classic.", "source": "template"},
    ]
    for t, problems, pulled, named in zip(
        texts, [[], [], ["praises"]], [["Alien (1979)"], [], []], [True, False, False], strict=True
    ):
        t |= {"problems": problems, "pulled_by": pulled, "names_pull": named}
    s = score(texts)
    assert (s["n"], s["model_share"], s["unsupported"], s["personalised"]) == (3, 0.3333, 1, 1.0)
    assert s["words_p50"] == 7 and 0 < s["distinct2"] <= 1


@pytest.mark.integration
def test_a_film_lover_hears_who_else_loved_what_they_loved(real_runtime: RuntimeConfig) -> None:
    from chatrec import ChatRecommender

    rec = ChatRecommender.from_pretrained("movies", runtime=real_runtime, llm=False)
    reply = rec.chat("I loved Alien and The Terminator, anything similar?", "fan")
    evidence = [r.evidence for r in reply.items]
    assert all(isinstance(e, Evidence) for e in evidence)
    pulled = [e for e in evidence if e is not None and e.pulls]
    assert len(pulled) >= 3, [r.title for r in reply.items]
    for r in reply.items[:3]:  # the explanation names the liked film behind it
        if r.evidence is not None and r.evidence.pulls:
            assert r.evidence.pulls[0].title in r.explanation, r.explanation
    why = rec.chat("why the first one?", "fan")
    assert "people who loved" in why.text and reply.items[0].title in why.text


def test_of_two_passing_texts_the_one_naming_the_liked_film_is_shown() -> None:
    from chatrec.config import ExplainConfig
    from chatrec.explain import Explainer

    item = FILMS.get("b")
    pull = Pull("a", "Alien (1979)", 212, 61, 4.1, 0.2)
    ev = gather(item, {"text": 0.5}, Constraints(categories=("Sci-Fi",)), [], [pull])
    plain = "Aliens (1986) is a Sci-Fi film from 1986, as you asked for tonight."
    named = "People who loved Alien rated Aliens 4.1★ on average; it is Sci-Fi from 1986."

    class TwoTexts:  # greedy row: the plain text; sampled row: the one naming Alien
        def chat_prompt(self, messages: list[dict[str, str]]) -> str:
            return messages[-1]["content"]

        def stream_batch(
            self, prompts, max_new_tokens=48, allowed=None, one_sentence=False, seed=None, **kw
        ):  # type: ignore[no-untyped-def]
            for row, s in enumerate(seed):
                yield row, plain if s is None else named

    # The sampled row, not the pull-led one (test_explain covers that): which text is shown.
    cfg = ExplainConfig(n_llm=1, candidates=2, retry=False, lead_with_pull=False)
    ex = Explainer(TwoTexts(), cfg)  # type: ignore[arg-type]
    (out,) = ex.explain("sci-fi", ["Alien (1979)"], [item], Constraints(), [ev])
    assert (out.source, out.text, out.tries) == ("llm", named, 2)
