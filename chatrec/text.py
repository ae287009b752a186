"""Words of a text, written once: the normaliser, the word sets and the stop-word list.

Every stage that compares words (title mentions, product-name resolution, explanation checks,
the dialogue's vocabularies) folds and splits them here, so "Part II" and "part 2", "Wi-Fi"
and "wifi" are one word everywhere. ``STOP_WORDS`` is the one list of English function words;
a stage that ignores more words (a question's filler, an explanation's empty praise) names
those extra words beside its own rule, as a union with this list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_ROMAN = {"ii": "2", "iii": "3", "iv": "4"}  # "Part II" and "part 2" are one key


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (a vocabulary written as one string)."""
    return frozenset(text.split())


# English function words: a title made only of these ("It", "Only You") reads as ordinary
# English, a question's words among these name no product, an explanation of only these says
# nothing about its item.
STOP_WORDS = words(
    "a an and are as at be been but by can do for from go has have he her him his how i if in "
    "is it its me my no not of on one only or our she so that the their them there they this "
    "to up us was we were what when which while who why will with you your"
)


def fold(token: str) -> str:
    """One word, normalised: lower case, accents and apostrophes, dots and hyphens dropped,
    '&' -> 'and', roman II-IV -> digits ("Wi-Fi" -> "wifi", "Amélie" -> "amelie")."""
    if token == "&":
        return "and"
    token = unicodedata.normalize("NFKD", token.lower())
    token = "".join(ch for ch in token if not unicodedata.combining(ch))
    for mark in "'’.-":
        token = token.replace(mark, "")
    return _ROMAN.get(token, token)


def singular(word: str) -> str:
    """A folded word without a plural 's' ("routers" -> "router"; "glass" stays)."""
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def join(xs: Sequence[str], last: str = "and") -> str:
    """A list in words: "A", "A and B", "A, B and C" (``last``: "or" for "A, B or C")."""
    xs = list(xs)
    if len(xs) <= 2:
        return f" {last} ".join(xs)
    return ", ".join(xs[:-1]) + f" {last} " + xs[-1]


def folded(text: str) -> list[str]:
    """The words of ``text``, each folded (``fold``): 'HP 27" All-in-One' -> hp, 27, allinone."""
    return [fold(t) for t in re.findall(r"[\w'’.&-]+", text)]


def has_run(want: Sequence[str], have: Sequence[str]) -> bool:
    """Whether the words ``want`` stand side by side, in order, among ``have`` (non-empty)."""
    n = len(want)
    return n > 0 and any(list(have[i : i + n]) == list(want) for i in range(len(have) - n + 1))


def names(name: str, title: str) -> bool:
    """Whether ``title`` has ``name`` as whole words, folded ("Wi-Fi" is "wifi"): "Arlo" in
    "Arlo Pro 4 Spotlight", "all-in-one" in "HP 27" All-in-One", not "arlo" in "Carlos"."""
    return has_run(folded(name), folded(title))
