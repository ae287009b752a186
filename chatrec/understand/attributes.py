"""One name per attribute a question or a comparison is about (issue 17).

The training writers named the same attribute their own ways ("battery" / "battery life",
"colour" / "color", "length" / "runtime"); a parser that learns attribute classes learns each
spelling as a class of its own, and a scorer counts the other spelling as wrong. The alias
table (``data/understanding/attributes.json``, data) gives each attribute one canonical name:
the training labels (``train.parser_bert``), the parsers' output (``normalise.finish_act``)
and the labelling guide use it.
"""

from __future__ import annotations

import json
from functools import cache


@cache
def aliases() -> dict[str, str]:
    """Variant (lower case) -> canonical name, from the alias table."""
    from chatrec.datasets import data_dir

    path = data_dir() / "understanding" / "attributes.json"
    table = json.loads(path.read_text()) if path.exists() else {}
    out: dict[str, str] = {}
    for name, variants in table.items():
        if name.startswith("_"):
            continue
        out[name] = name
        for v in variants:
            out.setdefault(v.lower().strip(), name)
    return out


def canonical(name: str) -> str:
    """The canonical name of an attribute ("colour" -> "color"); unknown names as said,
    in lower case."""
    key = " ".join(name.lower().split())
    return aliases().get(key, key)
