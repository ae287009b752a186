"""The rules' word lists, read once from ``data/understanding/vocabulary.toml``.

Each table of the file is one list: ``about`` (what it is for) and ``phrases`` (lower case,
single spaces). The file is checked whole when it is read, so a malformed entry fails at
import with the file and the key named, never as a pattern that silently matches nothing.
``asked`` records the lists the code took, so a test can show that every list is used.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

FILE = Path("understanding") / "vocabulary.toml"  # under the shipped data folder


class VocabularyError(ValueError):
    """The word-list file is missing, malformed, or lacks a list the code asks for."""


@dataclass
class WordLists:
    path: Path
    lists: dict[str, tuple[str, ...]]
    about: dict[str, str]
    asked: set[str] = field(default_factory=set)  # the keys the code has taken

    @classmethod
    def read(cls, path: Path) -> WordLists:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise VocabularyError(f"{path}: cannot be read as TOML: {err}") from err
        lists: dict[str, tuple[str, ...]] = {}
        about: dict[str, str] = {}
        for key, table in raw.items():
            where = f"{path}: [{key}]"
            if not isinstance(table, dict) or set(table) != {"about", "phrases"}:
                raise VocabularyError(f"{where} must be a table of 'about' and 'phrases' only")
            if not isinstance(table["about"], str) or not table["about"].strip():
                raise VocabularyError(f"{where}: 'about' must say what the list is for")
            phrases = table["phrases"]
            if not isinstance(phrases, list) or not phrases:
                raise VocabularyError(f"{where}: 'phrases' must be a non-empty list")
            for p in phrases:
                if not isinstance(p, str) or not p or p != " ".join(p.lower().split()):
                    raise VocabularyError(
                        f"{where}: {p!r} is not a lower-case phrase with single spaces"
                    )
            lists[key], about[key] = tuple(phrases), table["about"]
        return cls(path, lists, about)

    def phrases(self, key: str) -> tuple[str, ...]:
        """The list ``[key]``, as written."""
        if key not in self.lists:
            raise VocabularyError(f"{self.path}: no list [{key}]")
        self.asked.add(key)
        return self.lists[key]

    def word_set(self, key: str) -> frozenset[str]:
        return frozenset(self.phrases(key))

    def pattern(self, *keys: str, run_on: bool = False) -> str:
        """The lists as one regex alternation of whole words, longest first ("hate" never
        matches "whatever"); ``run_on``: a phrase's last word may go on ("recommend" matches
        "recommendations"). A phrase that starts or ends in an emoji has no word edge there."""
        alts = []
        for p in sorted({p for key in keys for p in self.phrases(key)}, key=lambda p: (-len(p), p)):
            start = r"\b" if re.match(r"\w", p[0]) else ""
            end = r"\b" if re.match(r"\w", p[-1]) and not run_on else ""
            alts.append(start + re.escape(p) + end)
        return "(?:" + "|".join(alts) + ")"


@cache
def load() -> WordLists:
    """The shipped word lists (read once)."""
    from chatrec.datasets import data_dir

    return WordLists.read(data_dir() / FILE)
