"""Reading a user turn into a ``DialogueAct``: the parsers behind one protocol (issue 17).

A parser sees the turn in its context (the catalog, the request in force, the titles on
screen) and returns an act whose every label is the catalog's (``Vocabulary.problems`` is
empty). ``context_text`` is how the models see that context.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol

from chatrec.act import DialogueAct, Vocabulary


class Parser(Protocol):
    name: str

    def parse(
        self, catalog: str, request: Sequence[str], shown: Sequence[str], message: str
    ) -> DialogueAct: ...


def context_text(catalog: str, request: Sequence[str], shown: Sequence[str]) -> str:
    """The context a model reads beside the message: catalog, request so far, the list shown."""
    said = " / ".join(r.strip() for r in request[-3:]) or "-"
    listed = "; ".join(f"{i}. {t}" for i, t in enumerate(shown[:10], 1)) or "-"
    return f"catalog: {catalog} | request: {said} | shown: {listed}"


@cache
def vocabulary(catalog: str) -> Vocabulary:
    """The vocabulary of a built-in catalog (its categories, spec names and titles)."""
    from chatrec import datasets
    from chatrec.config import RuntimeConfig
    from chatrec.constraints import SPEC_LABELS

    cat, _ = datasets.load(catalog, RuntimeConfig().cache_dir)
    items = list(cat)
    has_prices = any(it.price is not None for it in items)
    return Vocabulary.of(
        catalog,
        cat.categories(),
        SPEC_LABELS if has_prices else (),
        (it.title for it in items),
        has_prices=has_prices,
        has_years=any(it.year is not None for it in items),
    )
