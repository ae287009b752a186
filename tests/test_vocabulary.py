"""The rules' word lists (``data/understanding/vocabulary.toml``): the file loads, every list
is there for a reason and used by the code, and a broken file says where it is broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chatrec.dialogue  # builds every pattern, so every list is asked for
import chatrec.understand.checks  # noqa: F401  (the parsers' checks: praise, cheaper, ...)
from chatrec.understand.wordlists import VocabularyError, WordLists, load


def test_the_shipped_lists_load_and_are_lower_case_phrases() -> None:
    lists = load()
    assert lists.path.name == "vocabulary.toml" and lists.lists
    for key, phrases in lists.lists.items():
        assert phrases, key
        assert lists.about[key].strip(), key
        for p in phrases:
            assert p == " ".join(p.lower().split()), (key, p)
        assert len(set(phrases)) == len(phrases), key


def test_every_list_is_used_by_the_code() -> None:
    lists = load()
    assert lists.asked == set(lists.lists)


def test_a_list_becomes_a_whole_word_pattern(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text(
        '[neg]\nabout = "no"\nphrases = ["hate", "no thanks", "👎"]\n'
        '[ask]\nabout = "asks"\nphrases = ["recommend"]\n'
    )
    lists = WordLists.read(path)
    neg = re.compile(lists.pattern("neg"))
    assert neg.search("i hate it") and neg.search("no thanks!") and neg.search("meh👎")
    assert not neg.search("whatever") and not neg.search("no thanksgiving films")
    ask = re.compile(lists.pattern("ask", run_on=True))
    assert ask.search("any recommendations?") and not ask.search("prerecommend")
    assert lists.word_set("neg") == {"hate", "no thanks", "👎"}
    with pytest.raises(VocabularyError, match=r"v\.toml: no list \[missing\]"):
        lists.phrases("missing")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[vague\nabout = 1", r"cannot be read as TOML"),
        ('[vague]\nabout = "x"\n', r"\[vague\] must be a table of 'about' and 'phrases'"),
        ('[vague]\nabout = ""\nphrases = ["a"]\n', r"\[vague\]: 'about' must say"),
        ('[vague]\nabout = "x"\nphrases = []\n', r"\[vague\]: 'phrases' must be a non-empty"),
        ('[vague]\nabout = "x"\nphrases = ["Not sure"]\n', r"\[vague\]: 'Not sure' is not"),
        ('[vague]\nabout = "x"\nphrases = ["not  sure"]\n', r"\[vague\]: 'not  sure' is not"),
        ('[vague]\nabout = "x"\nphrases = [3]\n', r"\[vague\]: 3 is not"),
        ('vague = ["not sure"]\n', r"\[vague\] must be a table"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_key(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "vocabulary.toml"
    path.write_text(text)
    with pytest.raises(VocabularyError, match=re.escape(str(path)) + ".*" + error):
        WordLists.read(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(VocabularyError, match=r"nowhere\.toml: cannot be read"):
        WordLists.read(path)
