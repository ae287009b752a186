"""Facts of an item as text, and the checks that keep generated text to them (written once).

Input: ``Item``s. Output: money and fact phrases (``money``, ``price_text``, ``facts_text``,
``fact_values``) and the canonical numbers a text may contain (``fact_numbers``,
``allowed_numbers``); ``invented_numbers`` / ``invented`` list what a text says beyond them.
``explain`` (explanations), ``qa`` (product answers), the evaluations and the training corpora
all format and check through this module, so a price reads and checks the same everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from chatrec.catalog import Item

NUMBER = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")  # commas only between digits
GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 2,499.99 yes; 3,79.99 no
_MONEY_OR_NUMBER = re.compile(r"(\$\s?)?(\d(?:[\d,]*\d)?(?:\.\d+)?)")


def number_key(text: str) -> str:
    """A number as written ('2,499.99', '3.80') -> its canonical digits ('2499.99', '3.8')."""
    t = text.replace(",", "")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t or "0"


def money(v: float) -> str:
    """$1,299 or $1,299.99: what people read."""
    return f"${v:,.0f}" if float(v).is_integer() else f"${v:,.2f}"


def prompt_money(x: float) -> str:
    """$1299: what a small model reads in a ranking prompt.

    Whole dollars, no separators: SmolLM2 spends a token per digit and mark ("$2,499.99" is
    9 tokens, "$2499" 5), and cents never decide a ranking. Rounded down, so $499.99 still
    reads as under $500.
    """
    return f"${math.floor(x)}"


def price_text(item: Item) -> str:
    if item.price is None:
        return ""
    if item.price_max and item.price_max != item.price:
        return f"{money(item.price)}–{money(item.price_max)}"
    return money(item.price)


def discount_text(item: Item) -> str:
    """'$50 off until 2024-12-31', or '' when the item has no discount."""
    discount = item.attributes.get("discount_amount")
    if not discount:
        return ""
    until = item.attributes.get("discount_valid_until")
    return f"{money(discount)} off" + (f" until {until}" if until else "")


def facts_text(item: Item, max_features: int = 3) -> str:
    """The item's facts as a compact line: what the model may say, and all it may say."""
    parts: list[str] = []
    if item.year is not None:
        parts.append(f"released {item.year}")
    if item.categories:
        label = "genres" if item.year is not None else "category"
        parts.append(f"{label}: {', '.join(item.categories)}")
    if item.price is not None:
        parts.append(f"price {price_text(item)}")
    if item.rating is not None:
        count = f" from {item.review_count:,} ratings" if item.review_count else ""
        parts.append(f"average rating {item.rating:g} out of 5{count}")
    if discount_text(item):
        parts.append(discount_text(item))
    features = item.attributes.get("features") or []
    if isinstance(features, list) and features:
        parts.append("features: " + "; ".join(str(f) for f in features[:max_features]))
    return ". ".join(parts)


def fact_values(item: Item) -> dict[str, str]:
    """The item's facts as the phrases an answer uses: the only source of its numbers."""
    facts: dict[str, str] = {}
    if item.price is not None:
        facts["price"] = f"costs {price_text(item)}"
    if discount_text(item):
        facts["discount"] = f"has {discount_text(item)}"
    if item.rating is not None and item.review_count:
        noun = "ratings" if item.year is not None else "reviews"
        facts["rating"] = f"is rated {item.rating:g}/5 from {item.review_count:,} {noun}"
    elif item.review_count == 0:
        facts["rating"] = "has no reviews yet"
    if item.year is not None:
        facts["year"] = f"came out in {item.year}"
    if item.categories:
        facts["category"] = f"is in {', '.join(item.categories)}"
    return facts


def numbers_in(text: str) -> list[str]:
    """Canonical numbers written in ``text`` ('$2,499.99' -> '$2499.99', '3.80' -> '3.8')."""
    return [
        ("$" if m.group(1) else "") + number_key(m.group(2))
        for m in _MONEY_OR_NUMBER.finditer(text)
    ]


def fact_numbers(item: Item) -> set[str]:
    """Canonical numbers (``number_key``) an explanation of ``item`` may contain; amounts of
    money (price, price range, discount) also appear as "$" + number, and only those may
    follow a "$"."""
    texts = [item.title, facts_text(item, max_features=100)]
    texts += [str(v) for v in item.facts().values()]
    out = {number_key(n) for t in texts for n in NUMBER.findall(t)}
    amounts = [item.price, item.price_max, item.attributes.get("discount_amount")]
    out |= {"$" + number_key(f"{a:.2f}") for a in amounts if isinstance(a, int | float)}
    return out


def invented_numbers(text: str, item: Item) -> list[str]:
    """Numbers in ``text`` that are not among ``item``'s facts (a "$" amount must be a price
    or discount of the item)."""
    allowed = fact_numbers(item)
    return [n for n in numbers_in(text) if n not in allowed]


def allowed_numbers(items: Sequence[Item], extra: str = "") -> set[str]:
    """Every number an answer about ``items`` may contain, as ``numbers_in`` writes it."""
    out: set[str] = set(numbers_in(extra))
    for it in items:
        out |= fact_numbers(it)
        out |= set(numbers_in(it.title))
        out |= set(numbers_in(" ".join(str(b) for b in it.attributes.get("features") or [])))
        out |= set(numbers_in(" ".join(fact_values(it).values())))
    return out


def invented(text: str, items: Sequence[Item], extra: str = "") -> list[str]:
    """Numbers in ``text`` that are in none of the facts it may quote (must be empty)."""
    allowed = allowed_numbers(items, extra)
    return [n for n in numbers_in(text) if n not in allowed]
