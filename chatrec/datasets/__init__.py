"""Built-in catalogs and user catalog files, by name: ``movies``, ``store`` or a file path."""

from __future__ import annotations

import os
from pathlib import Path

from chatrec.catalog import Catalog, load_catalog_file
from chatrec.constraints import Lexicon

BUILTIN = ("movies", "store")


class UnknownCatalogError(ValueError):
    pass


def data_dir() -> Path:
    """The shipped data folder (``$CHATREC_DATA`` overrides): store catalog, policies, cards."""
    env = os.environ.get("CHATREC_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def load(name: str, cache_dir: Path) -> tuple[Catalog, Lexicon]:
    """The catalog called ``name`` and the phrases people use for its categories.

    Raises:
        UnknownCatalogError: not a built-in name and not an existing .jsonl/.csv file.
        CatalogError: the file has bad rows (each one named as file:line).
        DataMissingError: a built-in catalog's data has not been fetched.
    """
    if name == "movies":
        from chatrec.datasets import movielens

        return movielens.load(cache_dir).catalog, Lexicon(movielens.GENRE_ALIASES)
    if name == "store":
        from chatrec.datasets import store

        return store.load(data_dir()), Lexicon(store.ALIASES, store.ADDON_WORDS)
    path = Path(name)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson", ".csv"):
        catalog = load_catalog_file(path)
        return catalog, Lexicon.from_categories(catalog.categories())
    raise UnknownCatalogError(
        f"unknown catalog {name!r}: use one of {', '.join(BUILTIN)} or a .jsonl/.csv file"
    )
