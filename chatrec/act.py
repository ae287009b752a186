"""The dialogue act: what one user turn means, in one typed schema for every catalog.

A parser (rules today; a fine-tuned BERT-style or GPT-style model, issue 17) reads a message in
its context (the last list shown, the request so far) and writes a ``DialogueAct``. Its
vocabulary is the catalog's, as data (``Vocabulary.of``): categories are the catalog's own
names, specs are the spec table's names, titles are resolved to catalog ids by the title
matcher. ``Vocabulary.problems`` says what in an act the catalog does not know, so a label (in
the training and evaluation sets) or a model's output can be checked before it is used.

The act is also written in a compact one-line form (``to_text`` / ``from_text``), the target a
generative parser learns to write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Intent = Literal[
    "recommend",  # a new request ("a TV under $500", "something funny")
    "refine",  # changes the request in force ("cheaper", "only 4K", "not horror")
    "question",  # about shown items or the shop ("what does the second one cost?")
    "compare",  # which of the shown is most/least something ("which has the longest battery?")
    "why",  # why an item was picked ("why did you pick that?")
    "feedback",  # a judgement on shown items ("not that one", "loved the first")
    "onboarding",  # a newcomer describing their tastes
    "chit_chat",  # greetings, thanks, small talk
    "out_of_scope",  # hostile, other people's data, nothing this shop can do
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]
Audience = Literal["kids", "family", "adults"]
Direction = Literal["max", "min"]
Relative = Literal["cheaper", "pricier"]
Mode = Literal["add", "replace"]


class Price(BaseModel):
    """Dollars: a ceiling, a floor, a rough target, or relative to the list shown."""

    model_config = ConfigDict(extra="forbid")

    max: float | None = Field(None, ge=0)
    min: float | None = Field(None, ge=0)
    around: float | None = Field(None, ge=0)
    relative: Relative | None = None


class SpecRange(BaseModel):
    """A range on one named spec of the catalog (e.g. screen >= 65 inches)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    min: float | None = None
    max: float | None = None


class Comparison(BaseModel):
    """Which shown item has the most (``max``) or least (``min``) of an attribute."""

    model_config = ConfigDict(extra="forbid")

    attribute: str
    direction: Direction


class DialogueAct(BaseModel):
    """One user turn's meaning. Empty fields mean "not said"."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    categories: list[str] = []  # wanted: any of these catalog categories
    exclude: list[str] = []  # unwanted catalog categories
    audience: Audience | None = None
    mood: list[str] = []  # mood, theme and feature words, as said (for text retrieval)
    year_min: int | None = None
    year_max: int | None = None
    price: Price | None = None
    specs: list[SpecRange] = []
    liked: list[str] = []  # titles the person likes (catalog titles once resolved)
    disliked: list[str] = []  # titles the person does not want
    refs: list[str] = []  # shown items referred to: "1".."10", "all", or a name ("Sony")
    attribute: str | None = None  # what a question asks about (price, rating, bluetooth, ...)
    compare: Comparison | None = None
    mode: Mode = "add"  # whether the turn adds to the request in force or replaces it

    @model_validator(mode="after")
    def _years_in_order(self) -> DialogueAct:
        lo, hi = self.year_min, self.year_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"year_min {lo} is after year_max {hi}")
        return self

    def to_text(self) -> str:
        """The compact form: JSON of the fields that are said, in schema order."""
        return json.dumps(self.model_dump(exclude_defaults=True), separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> DialogueAct:
        """Read the compact form (raises ValueError with the reason)."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            raise ValueError(f"not a dialogue act: {err.errors()[0]['msg']}") from err


@dataclass(frozen=True)
class Vocabulary:
    """What a catalog's acts may name: its categories, spec names and titles."""

    name: str
    categories: frozenset[str]
    specs: frozenset[str]
    titles: frozenset[str]
    has_prices: bool
    has_years: bool

    @classmethod
    def of(
        cls,
        name: str,
        categories: Iterable[str],
        specs: Iterable[str],
        titles: Iterable[str],
        has_prices: bool,
        has_years: bool,
    ) -> Vocabulary:
        return cls(
            name,
            frozenset(categories),
            frozenset(specs),
            frozenset(titles),
            has_prices,
            has_years,
        )

    def problems(self, act: DialogueAct) -> list[str]:
        """What in ``act`` this catalog does not know ([] when every label is its own)."""
        out = [
            f"category {c!r}" for c in [*act.categories, *act.exclude] if c not in self.categories
        ]
        out += [f"spec {s.name!r}" for s in act.specs if s.name not in self.specs]
        out += [f"title {t!r}" for t in [*act.liked, *act.disliked] if t not in self.titles]
        if act.price is not None and not self.has_prices:
            out.append("a price in a catalog without prices")
        if (act.year_min is not None or act.year_max is not None) and not self.has_years:
            out.append("years in a catalog without years")
        for ref in act.refs:
            if not (ref == "all" or (ref.isdigit() and 1 <= int(ref) <= 10) or ref.strip()):
                out.append(f"reference {ref!r}")
        return out
