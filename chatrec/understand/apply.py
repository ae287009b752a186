"""What an act means for the search: the request in force after the turn, as ``Constraints``.

- ``mode="replace"`` (or a new ``recommend``) starts from nothing; a ``refine`` keeps the rest
  of the request in force and changes what it says;
- an audience of kids means Children's or Animation and nothing in Horror, Crime, Thriller
  or War; "cheaper" means below the cheapest item shown (and "pricier" above the dearest);
- liked titles are never offered back (``exclude``) and shape the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chatrec.act import DialogueAct
from chatrec.catalog import Item
from chatrec.types import Constraints, Spec

KIDS_OK = ("Children's", "Animation")
KIDS_NEVER = ("Horror", "Crime", "Thriller", "War")


def constraints(
    act: DialogueAct,
    before: Constraints,
    shown: Sequence[Item],
    categories: frozenset[str],
) -> Constraints:
    """The request in force after ``act`` (``before``: the one in force until now)."""
    fresh = act.mode == "replace" or act.intent in ("recommend", "onboarding")
    c = Constraints() if fresh else before
    wanted = tuple(act.categories)
    exclude = tuple(dict.fromkeys([*(() if fresh else c.exclude_categories), *act.exclude]))
    if act.audience == "kids":
        wanted = wanted or tuple(x for x in KIDS_OK if x in categories)
        exclude = tuple(dict.fromkeys([*exclude, *(x for x in KIDS_NEVER if x in categories)]))
    c = replace(
        c,
        categories=wanted or c.categories,
        exclude_categories=tuple(x for x in exclude if x not in wanted),
    )
    if act.year_min is not None or act.year_max is not None:
        c = replace(c, year_min=act.year_min, year_max=act.year_max)
    c = _price(c, act, shown)
    if act.specs:
        specs = {s.name: s for s in c.specs}
        for s in act.specs:
            specs[s.name] = Spec(s.name, s.min, s.max, s.name)
        c = replace(c, specs=tuple(specs.values()))
    return c


def _price(c: Constraints, act: DialogueAct, shown: Sequence[Item]) -> Constraints:
    p = act.price
    if p is None:
        return c
    prices = [it.price for it in shown if it.price is not None]
    lo, hi = c.price_min, c.price_max
    if p.relative == "cheaper" and prices:
        hi, lo = min(prices) - 0.01, None
    elif p.relative == "pricier" and prices:
        lo, hi = max(prices) + 0.01, None
    if p.around is not None:
        lo, hi = 0.75 * p.around, 1.25 * p.around
    if p.max is not None:
        hi = p.max
    if p.min is not None:
        lo = p.min
    return replace(c, price_min=lo, price_max=hi)


def query(act: DialogueAct, message: str, liked_titles: Sequence[str]) -> str:
    """What retrieval embeds: the mood words and wanted categories, or the message; the titles
    the person liked say what they are like."""
    parts = [*act.mood, *act.categories, *liked_titles]
    return " ".join(parts) if parts else message
