"""Built-in catalogs and user catalog files, by name: ``movies``, ``store`` or a file path.

A built-in catalog is a loader (where its items come from) plus a card of per-catalog words,
``data/catalogs/<name>.toml`` (``CatalogInfo``): the noun, example requests, onboarding
questions, policies. Nothing else in chatrec branches on a catalog's name.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from chatrec.catalog import Catalog, load_catalog_file
from chatrec.constraints import Lexicon

BUILTIN = ("movies", "store")


class UnknownCatalogError(ValueError):
    pass


def data_dir() -> Path:
    """The shipped data folder (``$CHATREC_DATA`` overrides): store catalog, policies, cards.

    In a source checkout it is the repository's ``data/``; an installed wheel carries the same
    files inside the package (``chatrec/data``).
    """
    env = os.environ.get("CHATREC_DATA")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    for folder in (package.parent / "data", package / "data"):
        if (folder / "catalogs").is_dir():
            return folder
    return package.parent / "data"


class MoodHint(BaseModel):
    """What a mood word means for the search: words to embed and categories to prefer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str = ""
    categories: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(
        default_factory=list,
        description="Categories the words rule out: 'live action' means no Animation.",
    )
    avoid: list[str] = Field(
        default_factory=list,
        description="Categories the picks leave out when the word is refused, though the act "
        "names none ('nothing gory' is a mood in the labelling guide; its picks hold no Horror).",
    )


class CatalogInfo(BaseModel):
    """The words of one catalog (``data/catalogs/<name>.toml``); defaults suit any file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    noun: str = Field("product", description="One item, as a person says it: 'film', 'product'.")
    nouns: str = Field("products", description="Several items: 'films', 'products'.")
    greeting_examples: str = Field("", description="Example requests quoted in the greeting.")
    label: str = Field("", description="The catalog's name in the app's menu: 'Movies'.")
    welcome: str = Field(
        "", description="What the app can do in this catalog, shown on an empty chat (Markdown)."
    )
    words: list[str] = Field(
        default_factory=list,
        description="What people call this catalog's items ('film', 'laptop'): a request that "
        "says one in another catalog gets a hint to switch here.",
    )
    examples: list[str] = Field(default_factory=list, description="Example requests (the UI).")
    onboarding: list[str] = Field(
        default_factory=lambda: [
            "Welcome! To pick well for you: what are you looking for, and what do you like?",
            "Is there anything you'd love, or something to avoid? Or say “surprise me”.",
        ],
        description="The first and second question to a newcomer whose words say too little.",
        min_length=2,
    )
    policies: str | None = Field(None, description="Policies TOML, relative to data/.")
    interactions: bool = Field(
        False, description="Logged interactions to train and evaluate on (MovieLens ratings)."
    )
    product_tests: bool = Field(
        False,
        description="It has product Q&A / onboarding / feedback test sets in data/eval "
        "(`chatrec eval` runs chatrec.eval.store on it).",
    )
    reranker_adapter: str | None = Field(
        None, description="The shipped reranking LoRA, a folder of data/adapters/."
    )
    parser: str | None = Field(
        None,
        description="The dialogue-act parser trained on this catalog's vocabulary, a folder "
        "of data/parsers/ (None: the rules read every message).",
    )
    moods: dict[str, MoodHint] = Field(
        default_factory=dict,
        description="Mood and occasion words (as a parser writes them) -> what to search for "
        "and the categories they suggest: 'make me cry' means moving dramas, not the titles "
        "with 'cry' in them.",
    )
    not_held: list[str] = Field(
        default_factory=list,
        description="Words for things this catalog does not hold ('laptop' among films): a "
        "request for one is told what the catalog holds.",
    )


def catalog_info(name: str) -> CatalogInfo:
    """The card of a built-in catalog; a catalog file (or a card that is absent) gets defaults.

    Raises:
        ValueError: a card that is not valid TOML or has unknown or malformed fields.
    """
    path = data_dir() / "catalogs" / f"{name}.toml"
    if name not in BUILTIN or not path.exists():
        return CatalogInfo()
    try:
        return CatalogInfo.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from None


def _movies(cache_dir: Path) -> tuple[Catalog, Lexicon]:
    from chatrec.datasets import movielens

    return movielens.load(cache_dir).catalog, Lexicon(movielens.GENRE_ALIASES)


def _store(cache_dir: Path) -> tuple[Catalog, Lexicon]:
    from chatrec.datasets import store

    return store.load(data_dir()), Lexicon(store.ALIASES, store.ADDON_WORDS)


LOADERS: dict[str, Callable[[Path], tuple[Catalog, Lexicon]]] = {
    "movies": _movies,
    "store": _store,
}


def load(name: str, cache_dir: Path) -> tuple[Catalog, Lexicon]:
    """The catalog called ``name`` and the phrases people use for its categories.

    Raises:
        UnknownCatalogError: not a built-in name and not an existing .jsonl/.csv file.
        CatalogError: the file has bad rows (each one named as file:line).
        DataMissingError: a built-in catalog's data has not been fetched.
    """
    if name in LOADERS:
        return LOADERS[name](cache_dir)
    path = Path(name)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson", ".csv"):
        catalog = load_catalog_file(path)
        return catalog, Lexicon.from_categories(catalog.categories())
    raise UnknownCatalogError(
        f"unknown catalog {name!r}: use one of {', '.join(BUILTIN)} or a .jsonl/.csv file"
    )
