"""A person's profile: what they liked and disliked, and what they said they want.

Built from the dialogue (onboarding words, "more like X", "not that one") and from 👍/👎;
stored per person and catalog (``store.py``) so a returning person keeps it across restarts.
It feeds the next recommendations (``adjust``): disliked items and their near-duplicates go
down, liked categories go up; and a one-line ``summary`` for the UI ("You like Smart
Watches and Headphones; budget around $300").

A profile says only what the person said or rated: a budget is one they named (while
onboarding, or in any request: "under $250"; the latest one holds), never one guessed from
the prices of what they liked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chatrec.catalog import Catalog
from chatrec.constraints import amounts
from chatrec.types import Candidate, Constraints, DialogueState

NEAR_DUPLICATE = 0.93  # cosine of item embeddings above which a disliked item's twin goes too
LIKED_BONUS = 0.1  # added to a candidate's score per liked-category share (0..1)
KEEP = 50  # liked / disliked ids kept, the most recent


@dataclass
class Profile:
    """Plain lists and numbers, saved as JSON."""

    liked: list[str] = field(default_factory=list)  # oldest first
    disliked: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # said when describing their tastes
    price_min: float | None = None
    price_max: float | None = None
    year_min: int | None = None
    year_max: int | None = None
    said: list[str] = field(default_factory=list)  # their own words, last few onboarding turns

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Profile:
        if not d:
            return cls()
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    # --- updates ----------------------------------------------------------------------------
    def like(self, item_id: str) -> None:
        self.liked, self.disliked = self._move(item_id, self.liked, self.disliked)

    def dislike(self, item_id: str) -> None:
        self.disliked, self.liked = self._move(item_id, self.disliked, self.liked)

    @staticmethod
    def _move(item_id: str, to: list[str], away: list[str]) -> tuple[list[str], list[str]]:
        """The item last in ``to`` (the most recent ``KEEP``) and out of ``away``."""
        return [*(i for i in to if i != item_id), item_id][-KEEP:], [
            i for i in away if i != item_id
        ]

    def stated(self, words: str, c: Constraints) -> None:
        """What a person said about their tastes (onboarding): categories, budget, years."""
        if c.categories:
            self.categories = list(dict.fromkeys([*c.categories, *self.categories]))[:6]
        if c.price_min is not None or c.price_max is not None:
            self.price_min, self.price_max = c.price_min, c.price_max
        if c.year_min is not None or c.year_max is not None:
            self.year_min, self.year_max = c.year_min, c.year_max
        if words:
            self.said = [*self.said, words[:200]][-3:]

    def heard(self, words: str, before: Constraints, after: Constraints) -> None:
        """A request's budget: when the message names an amount and the price bounds in
        force change to something (``before`` -> ``after``), they are the person's budget now
        ("cheaper than those" names none: it sets no budget)."""
        bounds = (after.price_min, after.price_max)
        if bounds == (None, None) or bounds == (before.price_min, before.price_max):
            return
        if amounts(words):
            self.price_min, self.price_max = bounds

    def merged(self, newer: Profile) -> Profile:
        """This profile with a newer one's (a guest's who signs in): both ratings, the newer
        winning where they differ; the newer stated categories first; its budget and years
        where it states them; the last few words said."""
        out = Profile.from_dict(self.to_dict())
        for i in newer.liked:
            out.like(i)
        for i in newer.disliked:
            out.dislike(i)
        out.categories = list(dict.fromkeys([*newer.categories, *out.categories]))[:6]
        if newer.price_min is not None or newer.price_max is not None:
            out.price_min, out.price_max = newer.price_min, newer.price_max
        if newer.year_min is not None or newer.year_max is not None:
            out.year_min, out.year_max = newer.year_min, newer.year_max
        out.said = [*out.said, *newer.said][-3:]
        return out

    # --- reading it ---------------------------------------------------------------------------
    def top_categories(self, catalog: Catalog, n: int = 3) -> list[str]:
        """Stated categories count twice, each liked item once, each disliked item minus one."""
        score: Counter[str] = Counter()
        for c in self.categories:
            score[c] += 2
        for i in self.liked:
            if i in catalog:
                score.update(catalog.get(i).categories)
        for i in self.disliked:
            if i in catalog:
                score.subtract(catalog.get(i).categories)
        return [c for c, s in score.most_common() if s > 0][:n]

    def decades(self, catalog: Catalog, n: int = 2) -> list[int]:
        years = [catalog.get(i).year for i in self.liked if i in catalog]
        count = Counter(y // 10 * 10 for y in years if y is not None)
        if self.year_min is not None and self.year_max is not None:
            for d in range(self.year_min // 10 * 10, self.year_max + 1, 10):
                count[d] += 2
        return [d for d, _ in count.most_common(n)]

    def price_band(self) -> tuple[float | None, float | None]:
        """The budget the person said (None, None when they said none): never guessed from
        what they liked ("more like" a $50 pick says nothing about a $250 budget)."""
        return self.price_min, self.price_max

    def is_empty(self) -> bool:
        return self == Profile()

    def summary(self, catalog: Catalog) -> str:
        """One line for the UI, e.g. "You like 1990s Sci-Fi and Comedy; budget around $500"."""
        parts: list[str] = []
        cats = self.top_categories(catalog)
        decades = self.decades(catalog)  # none in a catalog without years
        if cats or decades:
            era = " and ".join(f"{d}s" for d in decades)
            what = (
                " and ".join(cats) if len(cats) <= 2 else ", ".join(cats[:-1]) + " and " + cats[-1]
            )
            parts.append("You like " + " ".join(p for p in (era, what) if p))
        lo, hi = self.price_band()
        if lo is not None and hi is not None:
            mid = (lo + hi) / 2
            parts.append(
                f"budget around ${mid:,.0f}" if hi <= 1.6 * lo else f"budget ${lo:,.0f}–${hi:,.0f}"
            )
        elif hi is not None:
            parts.append(f"budget under ${hi:,.0f}")
        elif lo is not None:
            parts.append(f"budget over ${lo:,.0f}")
        if self.disliked:
            n = len(self.disliked)
            parts.append(f"{n} item{'s' if n > 1 else ''} you'd rather not see")
        if not parts:
            return "No profile yet: tell me what you like, or rate a few picks with 👍/👎."
        return "; ".join(parts) + "."

    def adjust(
        self,
        catalog: Catalog,
        ids: list[str],
        scores: np.ndarray,
        vectors: np.ndarray,
        disliked_vectors: np.ndarray,
    ) -> np.ndarray:
        """Candidate scores after feedback: near-duplicates of disliked items (cosine ≥
        ``NEAR_DUPLICATE``) drop below every other candidate; items in liked categories gain
        up to ``LIKED_BONUS``.

        Args:
            ids: candidate item ids, with their ``scores`` (n,) and unit ``vectors`` (n, d).
            disliked_vectors: (m, d) unit vectors of the disliked items (m may be 0).
        """
        out = scores.astype(np.float64).copy()
        liked = Counter(c for i in self.liked if i in catalog for c in catalog.get(i).categories)
        total = sum(liked.values())
        if total:
            for n, i in enumerate(ids):
                share = sum(liked[c] for c in catalog.get(i).categories) / total
                out[n] += LIKED_BONUS * min(share, 1.0)
        if len(disliked_vectors) and len(ids):
            near = (vectors @ disliked_vectors.T).max(axis=1) >= NEAR_DUPLICATE
            if near.any():
                floor = out.min() - 1.0
                out[near] = floor + out[near] * 1e-3
        return out


def personalize(
    pool: list[Candidate],
    prof: Profile,
    state: DialogueState,
    catalog: Catalog,
    embeddings: np.ndarray,
) -> list[Candidate]:
    """Feedback changes the order: near-duplicates of disliked items go to the bottom, items
    in liked categories move up (``Profile.adjust``). ``embeddings``: (n_items, d) float32."""
    disliked = [i for i in dict.fromkeys([*prof.disliked, *state.rejected]) if i in catalog]
    liked = list(dict.fromkeys([*prof.liked, *state.liked]))
    if not pool or not (disliked or liked):
        return pool
    view = Profile(liked=liked, disliked=disliked)
    rows = [catalog.position(i) for i in disliked]
    scores = view.adjust(
        catalog,
        [c.item.id for c in pool],
        np.array([c.score for c in pool]),
        embeddings[[c.row for c in pool]],
        embeddings[rows] if rows else np.zeros((0, embeddings.shape[1]), embeddings.dtype),
    )
    order = np.argsort(-scores, kind="stable")
    return [pool[i].moved(float(scores[i]), "liked") for i in order]
