"""Dialogue-plus-interaction training examples, built from the ml-100k TRAINING split only.

Input: the ``Split`` (only ``split.train(u)`` is read: no validation or test item of any user
enters an example), the movie catalog, a candidate source, and the store catalog. Output:
``Example`` s, each a chat prompt (rendered from ``chatrec/prompts/``) and the answer the model must
give: for a rerank example the target's letter among the retriever's 20 candidates plus a grounded
one-sentence reason; for a product question a fact-only answer. Deterministic for a seed.

Kinds, per DESIGN.md's three uses:

- ``rerank``: a person with a history (the last titles, liked = rated 4-5, disliked = 1-2)
  says something (vague, a genre, a decade, "something like X", or precise), and the next
  item they rated is the answer. Candidates are the retriever's top 20 for that history and
  wish, in the retriever's order (the prompt says so: the model learns to fuse that rank with
  what it reads). Only draws where the retriever found the target are kept (``misses=False``,
  the reranker's default): at inference the list is the retriever's own, and a target swapped
  into it is an item the retriever would not have listed, which teaches "pick the odd one
  out" -- a cue the real lists never hold. With ``misses=True`` a missed target takes a
  position drawn from where the retriever's hits land, so the letter tells no more than the
  retriever's rank.
- ``cold_start``: no history; the wish names the target's genres and decade.
- ``refine``: two turns joined ("a comedy; only ones from the 90s"); the target fits both.
- ``product_question``: a question about a store product, answered from its facts only, so
  the adapter keeps that skill.
"""

from __future__ import annotations

import json
import random
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.catalog import Catalog, Item
from chatrec.datasets.split import Split
from chatrec.evidence import CoLiked
from chatrec.facts import money, price_text
from chatrec.rerank import candidate_lines, evidence_text

LETTERS = string.ascii_uppercase
N_CANDIDATES = 20
LIKED, DISLIKED = 4.0, 2.0  # a rating >= LIKED is liked, <= DISLIKED disliked

# Genre -> a word people use for it (the reverse of movielens.GENRE_ALIASES, one each).
GENRE_WORD = {
    "Action": "action movie", "Adventure": "adventure", "Animation": "animated film",
    "Children's": "family film", "Comedy": "comedy", "Crime": "crime film",
    "Documentary": "documentary", "Drama": "drama", "Fantasy": "fantasy film",
    "Film-Noir": "film noir", "Horror": "horror film", "Musical": "musical",
    "Mystery": "mystery", "Romance": "romance", "Sci-Fi": "sci-fi film",
    "Thriller": "thriller", "War": "war film", "Western": "western",
}  # fmt: skip
VAGUE = (
    "Recommend my next movie.",
    "What should I watch next?",
    "Any suggestions for tonight?",
    "Pick a film for me.",
    "I'm bored, what's good?",
    "Surprise me with something.",
)
EVAL_WISH = VAGUE[0]  # the wish of the offline protocol, which has no utterance


@dataclass(frozen=True)
class Example:
    kind: str  # rerank | cold_start | refine | product_question
    messages: list[dict[str, str]]  # system + user, rendered from chatrec/prompts/
    answer: str  # the letter ("C") or, for product questions, the whole answer
    explanation: str = ""  # rerank kinds: one grounded sentence after the letter
    n_choices: int = 0  # letters shown (0: free-text answer)
    meta: dict[str, Any] = field(default_factory=dict)


def decade_of(year: int | None) -> str | None:
    return None if year is None else f"{year // 10 % 10}0s"


def explanation(item: Item, liked_like: Item | None) -> str:
    """One grounded sentence: only the item's title, genres, year, and a liked history title."""
    genres = " and ".join(g.lower() for g in item.categories[:2]) or "film"
    year = f" from {item.year}" if item.year else ""
    if liked_like is not None:
        return f"{item.title} is a {genres} film{year}, like {liked_like.title} that you liked."
    return f"{item.title} is a {genres} film{year}, which fits what you asked for."


def _wish(rng: random.Random, target: Item, like: Item | None) -> tuple[str, str]:
    """(style, utterance) about the target, in one of the phrasings people use."""
    genre = rng.choice(target.categories) if target.categories else None
    decade = decade_of(target.year)
    styles = ["vague", "vague"]
    if genre:
        styles += ["genre", "genre_decade"] if decade else ["genre"]
    if like is not None:
        styles.append("like")
    style = rng.choice(styles)
    if style == "genre":
        return style, rng.choice(
            [f"I'm in the mood for a {GENRE_WORD[genre]}.", f"Any good {GENRE_WORD[genre]}?",
             f"Recommend a {GENRE_WORD[genre]}."]
        )  # fmt: skip
    if style == "genre_decade":
        return style, rng.choice(
            [f"A {GENRE_WORD[genre]} from the {decade}, please.",
             f"Something {genre.lower()} from the {decade}."]
        )  # fmt: skip
    if style == "like" and like is not None:
        return style, rng.choice([f"Something like {like.title}.", f"More like {like.title}."])
    return "vague", rng.choice(VAGUE)


CandidateFn = Callable[[np.ndarray, str | None], np.ndarray]
"""(history item positions, wish or None) -> (n_items,) scores; higher = better."""


def _candidates(
    rng: random.Random,
    scores: np.ndarray,
    exclude: np.ndarray,
    target: int,
    ranked: bool = True,
    hit_positions: list[int] | None = None,
) -> tuple[list[int], bool]:
    """The top 20 by ``scores`` minus ``exclude``, and whether the target was among them.

    ``ranked``: kept in the retriever's order (the prompt says so); a missed target takes the
    place of the item at a position drawn from where earlier hits landed (``hit_positions``,
    updated here), so the position the answer sits at follows the retriever's real odds and
    the letter alone gives away no more than the retriever's rank does. Otherwise the
    missed target replaces a random item and the list is shuffled.
    """
    s = scores.astype(np.float64).copy()
    s[exclude] = -np.inf
    top = [int(i) for i in np.argsort(-s, kind="stable")[:N_CANDIDATES]]
    hit = target in top
    if not ranked:
        if not hit:
            top[rng.randrange(len(top))] = target
        rng.shuffle(top)
        return top, hit
    seen = hit_positions if hit_positions is not None else []
    if hit:
        seen.append(top.index(target))
    else:
        top[rng.choice(seen) if seen else rng.randrange(len(top))] = target
    return top, hit


def _history_titles(
    catalog: Catalog, items: np.ndarray, ratings: np.ndarray, keep: int
) -> tuple[list[str], list[str]]:
    pairs = list(zip(items, ratings, strict=True))
    liked = [catalog.items[i].title for i, r in pairs if r >= LIKED]
    disliked = [catalog.items[i].title for i, r in pairs if r <= DISLIKED]
    return liked[-keep:], disliked[-max(keep // 2, 1) :]


def rerank_messages(
    wishes: str,
    liked: Sequence[str],
    disliked: Sequence[str],
    items: Sequence[Item],
    ranked: bool = True,
    evidence: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """The same prompt ``VerbalizerReranker.prompt`` renders (chatrec/prompts/rerank.j2);
    ``evidence`` (item id -> ``rerank.evidence_text``): the evidence adapter's prompt."""
    from chatrec.prompts import render_messages

    return render_messages(
        "rerank",
        wishes=wishes,
        history=list(liked),
        disliked=list(disliked),
        candidates=candidate_lines(items, evidence),
        ranked=ranked,
        evidence=evidence is not None,
    )


@dataclass(frozen=True)
class RerankEvidence:
    """The evidence the rerank prompt shows per candidate, from TRAINING interactions only:
    who loved what (``CoLiked``) and each item's training ratings (sum and count)."""

    coliked: CoLiked
    stars: np.ndarray  # (n_items,) sum of training ratings
    count: np.ndarray  # (n_items,) number of training ratings

    @classmethod
    def fit(cls, split: Split) -> RerankEvidence:
        seqs = [split.train(u) for u in range(len(split.users))]
        rats = [split.ratings[u][: len(s)] for u, s in enumerate(seqs)]
        flat, r = np.concatenate(seqs), np.concatenate(rats)
        stars = np.bincount(flat, weights=r, minlength=split.n_items)
        count = np.bincount(flat, minlength=split.n_items)
        return cls(CoLiked.fit(seqs, rats, split.n_items), stars, count)

    def lines(
        self,
        catalog: Catalog,
        candidates: Sequence[int],
        history: Sequence[int],
        ratings: Sequence[float],
        keep: int,
        without: Mapping[int, float] | None = None,
    ) -> dict[str, str]:
        """Item id -> evidence text for each candidate position. ``history``/``ratings``:
        the person's items so far (oldest first), whose last ``keep`` liked ones (rated
        ``LIKED`` or more) are the films whose fans count; ``without``: their own training
        ratings, left out of every count (a training example's person)."""
        liked = [int(i) for i, r in zip(history, ratings, strict=True) if r >= LIKED][-keep:]
        own = without or {}
        out = {}
        for c in candidates:
            n = int(self.count[c]) - (c in own)
            total = float(self.stars[c]) - own.get(c, 0.0)
            pulls = self.coliked.pulls(catalog, liked, c, top=1, without=own)
            out[catalog.items[c].id] = evidence_text(pulls, total / n if n else None, n)
        return out


def build_rerank_examples(
    split: Split,
    catalog: Catalog,
    candidates: CandidateFn,
    n: int,
    seed: int = 0,
    history_titles: int = 10,
    kinds: dict[str, float] | None = None,
    ranked: bool = True,
    misses: bool = False,
    evidence: RerankEvidence | None = None,
) -> list[Example]:
    """``n`` rerank / cold-start / refine examples from training interactions only.

    ``ranked``: candidates in the retriever's order, as the eval and the chat show them.
    ``evidence``: each candidate's line ends with its evidence, the person's own training
    ratings left out of every count.
    ``misses``: keep draws whose target the retriever missed (swapped into the list); else
    they are skipped, and the next example's ``meta["skipped_misses"]`` counts them."""
    kinds = kinds or {"rerank": 0.8, "cold_start": 0.1, "refine": 0.1}
    rng = random.Random(seed)
    hit_positions: list[int] = []
    names, weights = zip(*kinds.items(), strict=True)
    items = catalog.items
    out: list[Example] = []
    users = list(range(len(split.users)))
    skipped = 0
    while len(out) < n:
        kind = rng.choices(names, weights)[0]
        u = rng.choice(users)
        seq, rat = split.train(u), split.ratings[u][: len(split.train(u))]
        if len(seq) < 4:
            continue
        t = rng.randrange(3, len(seq))  # predict seq[t] from seq[:t]
        target = int(seq[t])
        item = items[target]
        hist, hist_r = seq[:t], rat[:t]
        if kind == "cold_start":
            hist, hist_r = hist[:0], hist_r[:0]
        liked, disliked = _history_titles(catalog, hist, hist_r, history_titles)
        shared = [
            int(i)
            for i, r in zip(hist[-history_titles:], hist_r[-history_titles:], strict=True)
            if r >= LIKED and set(items[int(i)].categories) & set(item.categories)
        ]
        like = items[rng.choice(shared)] if shared else None
        style, wish = _wish(rng, item, like if kind != "cold_start" else None)
        if kind == "cold_start" and style == "vague" and item.categories:
            wish = f"I'm new here. I like {GENRE_WORD[item.categories[0]]}s."
            style = "genre"
        if kind == "refine":
            decade = decade_of(item.year)
            genre = item.categories[0] if item.categories else None
            if not (decade and genre):
                continue
            wish = f"Recommend a {GENRE_WORD[genre]}; only ones from the {decade}"
        scores = candidates(hist, None if style == "vague" else wish)
        cand, hit = _candidates(rng, scores, hist, target, ranked, hit_positions)
        if not hit and not misses:
            skipped += 1
            continue
        shown = [items[i] for i in cand]
        lines = None
        if evidence is not None:
            own = {int(i): float(r) for i, r in zip(seq, rat, strict=True)}
            lines = evidence.lines(catalog, cand, hist, hist_r, history_titles, own)
        out.append(
            Example(
                kind=kind,
                messages=rerank_messages(wish, liked, disliked, shown, ranked, lines),
                answer=LETTERS[cand.index(target)],
                explanation=explanation(item, like),
                n_choices=len(shown),
                meta={
                    "user": int(split.users[u]),
                    "target": item.id,
                    "style": style,
                    "hit": hit,
                    "wish": wish,
                    "liked": liked,
                    "disliked": disliked,
                    "candidates": [items[i].id for i in cand],
                    "skipped_misses": skipped,
                },
            )
        )
        skipped = 0
    return out


def _qa(rng: random.Random, item: Item) -> tuple[str, str] | None:
    """(question, fact-only answer) about a store item, or None if it lacks the fact."""
    name = item.title if len(item.title) <= 60 else item.title[:60].rsplit(" ", 1)[0]
    asks = []
    if item.price is not None:
        asks.append((f"How much is the {name}?", f"The {name} costs {price_text(item)}."))
    if item.rating is not None and item.review_count:
        asks.append(
            (
                f"Is the {name} well rated?",
                f"It is rated {item.rating:g} out of 5 from {item.review_count:,} reviews.",
            )
        )
    discount = item.attributes.get("discount_amount")
    if discount:
        asks.append((f"Is the {name} on sale?", f"Yes, it has {money(discount)} off."))
    if item.categories:
        asks.append((f"What kind of product is the {name}?", f"It is in {item.categories[0]}."))
    return rng.choice(asks) if asks else None


def build_product_examples(store: Catalog, n: int, seed: int = 0) -> list[Example]:
    """``n`` product questions answered from the item's facts (``product_answer.j2``)."""
    from chatrec.facts import facts_text
    from chatrec.prompts import render_messages

    rng = random.Random(seed + 1)
    out: list[Example] = []
    while len(out) < n:
        item = rng.choice(store.items)
        qa = _qa(rng, item)
        if qa is None:
            continue
        question, answer = qa
        messages = render_messages(
            "product_answer", question=question, title=item.title, facts=facts_text(item)
        )
        out.append(Example("product_question", messages, answer, meta={"item": item.id}))
    return out


def card(examples: Sequence[Example], seed: int, source: str) -> dict[str, Any]:
    """Counts a dataset card reports: per kind, per wish style, retriever hit rate."""
    rer = [e for e in examples if e.n_choices]
    hits = sum(e.meta["hit"] for e in rer)
    draws = len(rer) + sum(e.meta.get("skipped_misses", 0) for e in rer)
    return {
        "seed": seed,
        "source": source,
        "examples": len(examples),
        "by_kind": dict(Counter(e.kind for e in examples)),
        "by_wish_style": dict(Counter(e.meta.get("style", "-") for e in rer)),
        # of all the draws, skipped misses included: how often the retriever had the target
        "retriever_hit_rate": round(hits / max(draws, 1), 3),
        "misses_kept": len(rer) - hits,
        "answer_letters": dict(sorted(Counter(e.answer for e in rer).items())),
    }


def save_jsonl(examples: Sequence[Example], path: Path) -> None:
    """Atomic write of one JSON object per example (kept in artifacts/, never committed)."""
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("w") as f:
        for e in examples:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    tmp.replace(path)
