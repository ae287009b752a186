"""Catalog: the typed ``Item``, a ``Catalog`` of them, and loaders for JSONL and CSV files.

Input: a file with at least ``id`` and ``title`` per row. Output: a validated ``Catalog``.
Every bad row is reported as ``file:line: reason`` and the whole catalog is refused, so a
bad file never replaces a good bundle.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CORE_FIELDS = (
    "id",
    "title",
    "text",
    "categories",
    "price",
    "price_max",
    "rating",
    "review_count",
    "year",
    "addon",
)


class Item(BaseModel):
    """One thing we can recommend. Numbers are facts an explanation may quote."""

    # NaN and ±Infinity are numbers to Python's json and float(): never prices or ratings.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=1000)
    text: str = Field("", max_length=20_000, description="Free description used for retrieval.")
    categories: tuple[str, ...] = Field((), description="Genres or store categories.")
    price: float | None = Field(None, ge=0, description="Price, or the low end of a range.")
    price_max: float | None = Field(None, ge=0, description="High end of a price range.")
    rating: float | None = Field(None, ge=0, le=5, description="Mean rating out of 5.")
    review_count: int | None = Field(None, ge=0)
    year: int | None = Field(None, ge=1800, le=2100)
    addon: bool = Field(
        False, description="An accessory, service or plan: shown only when asked for."
    )
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", "title", mode="before")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)
        return v.strip() if isinstance(v, str) else v

    @field_validator("attributes")
    @classmethod
    def _finite(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k, x in v.items() if not _all_finite(x)]
        if bad:
            raise ValueError(f"{', '.join(map(str, bad))} must be finite, not NaN or Infinity")
        return v

    @field_validator("categories", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if v is None:
            return ()
        if isinstance(v, str):
            return tuple(c.strip() for c in v.replace(";", "|").split("|") if c.strip())
        return v

    def document(self) -> str:
        """The text embedded for retrieval: title, categories, description."""
        parts = [self.title]
        if self.categories:
            parts.append(", ".join(self.categories))
        if self.text:
            parts.append(self.text)
        return ". ".join(parts)

    def facts(self) -> dict[str, Any]:
        """Structured facts (no free text), as shown on a card and quoted in answers."""
        out: dict[str, Any] = {}
        for key in ("price", "price_max", "rating", "review_count", "year"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.categories:
            out["categories"] = list(self.categories)
        out.update(self.attributes)
        return out


def _all_finite(value: Any) -> bool:
    """Whether no float in ``value`` (a free attribute: a number, string, list or dict) is
    NaN or ±Infinity: they would reach a card as "$nan" and a reply's JSON as invalid JSON."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(x) for x in value.values())
    if isinstance(value, list | tuple):
        return all(_all_finite(x) for x in value)
    return True


class CatalogError(ValueError):
    """A catalog file that cannot be used; ``errors`` holds one 'file:line: reason' per row."""

    def __init__(self, path: str | Path, errors: list[str]):
        self.path = str(path)
        self.errors = errors
        shown = "\n".join(errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} bad row(s) in {path}:\n{shown}{more}")


class Catalog:
    """An ordered, id-unique collection of items. Row i of every bundle array is ``items[i]``."""

    def __init__(self, name: str, items: Iterable[Item], source: str = ""):
        self.name = name
        self.items: list[Item] = list(items)
        self.source = source
        self._pos = {it.id: i for i, it in enumerate(self.items)}
        self._twins: dict[str, tuple[str, ...]] | None = None
        if len(self._pos) != len(self.items):
            raise ValueError(f"catalog {name!r} has duplicate ids")

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._pos

    def get(self, item_id: str) -> Item:
        return self.items[self._pos[item_id]]

    def position(self, item_id: str) -> int:
        return self._pos[item_id]

    def listing(self, item_id: str) -> tuple[Any, ...]:
        """What a person sees of an item, without its id and crowd figures (rating, reviews).

        Two ids with the same listing are one thing to a person: MovieLens-100k has 18 films
        under two ids each ("Chasing Amy (1997)" is 246 and 268). Same-titled store laptops
        whose descriptions differ (16 vs 32 GB) are different listings.
        """
        it = self.get(item_id)
        return (
            it.title.casefold(),
            it.categories,
            it.text,
            it.price,
            it.price_max,
            it.year,
            it.addon,
        )

    def twins(self, item_id: str) -> tuple[str, ...]:
        """The other ids with the same ``listing`` (usually none)."""
        if self._twins is None:
            groups: dict[tuple[Any, ...], list[str]] = {}
            for it in self.items:
                groups.setdefault(self.listing(it.id), []).append(it.id)
            self._twins = {i: tuple(g) for g in groups.values() if len(g) > 1 for i in g}
        return tuple(i for i in self._twins.get(item_id, ()) if i != item_id)

    def with_twins(self, ids: Iterable[str]) -> tuple[str, ...]:
        """``ids`` followed by their twins, each id once: what to leave out when ``ids`` are."""
        out = dict.fromkeys(ids)
        for i in list(out):
            if i in self._pos:
                out.update(dict.fromkeys(self.twins(i)))
        return tuple(out)

    def popular_titles(self, n: int = 30) -> list[str]:
        """The ``n`` most reviewed titles, add-ons left out, a twin's title once."""
        items = [it for it in self.items if not it.addon and it.review_count]
        items.sort(key=lambda it: -(it.review_count or 0))
        return list(dict.fromkeys(it.title for it in items))[:n]

    def categories(self) -> list[str]:
        seen: dict[str, None] = {}
        for it in self.items:
            for c in it.categories:
                seen.setdefault(c, None)
        return list(seen)

    def content_hash(self) -> str:
        """Changes whenever any item changes; part of a bundle's fingerprint."""
        h = hashlib.sha256()
        for it in self.items:
            h.update(it.model_dump_json().encode())
            h.update(b"\n")
        return h.hexdigest()[:16]

    def to_jsonl(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            for it in self.items:
                f.write(it.model_dump_json(exclude_defaults=True) + "\n")


def _row_to_item(row: dict[str, Any]) -> Item:
    core = {k: v for k, v in row.items() if k in CORE_FIELDS}
    extra = {k: v for k, v in row.items() if k not in CORE_FIELDS and k != "attributes"}
    attributes = dict(row.get("attributes") or {})
    attributes.update(extra)
    return Item(**core, attributes=attributes)


def _reason(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "row"
        got = e.get("input")
        # The value itself when it is short and says why ("got inf", "got -5"); never a
        # whole row.
        shown = f" (got {got!r})" if isinstance(got, str | int | float) and e["loc"] else ""
        parts.append(f"{loc}: {e['msg']}{shown if len(shown) <= 60 else ''}")
    return "; ".join(parts)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8", errors="strict") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, f"not valid JSON ({e.msg})"
                continue
            yield n, obj if isinstance(obj, dict) else "a row must be a JSON object"


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            yield 1, "header must name at least the columns 'id' and 'title'"
            return
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                yield start, "more values than header columns"
            else:
                # Empty cells mean "unknown", not an empty string or zero.
                yield start, {k: v for k, v in row.items() if v not in ("", None)}
            start = reader.line_num + 1


def load_catalog_file(path: str | Path, name: str | None = None) -> Catalog:
    """Read a JSONL (``.jsonl``/``.json``) or CSV (``.csv``) catalog, validating every row.

    Raises:
        FileNotFoundError: the file does not exist.
        CatalogError: one or more rows are bad; every one is listed as ``file:line: reason``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"catalog file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _jsonl_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise CatalogError(path, [f"{path}: unsupported format {suffix!r} (use .jsonl or .csv)"])

    items: list[Item] = []
    errors: list[str] = []
    first_line: dict[str, int] = {}
    try:
        for line, row in rows:
            if isinstance(row, str):
                errors.append(f"{path}:{line}: {row}")
                continue
            try:
                item = _row_to_item(row)
            except ValidationError as e:
                errors.append(f"{path}:{line}: {_reason(e)}")
                continue
            except TypeError as e:
                errors.append(f"{path}:{line}: {e}")
                continue
            if item.id in first_line:
                errors.append(
                    f"{path}:{line}: duplicate id {item.id!r} (first on line {first_line[item.id]})"
                )
                continue
            first_line[item.id] = line
            items.append(item)
    except UnicodeDecodeError as e:
        errors.append(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")
    if not items and not errors:
        errors.append(f"{path}: no rows")
    if errors:
        raise CatalogError(path, errors)
    return Catalog(name or path.stem, items, source=str(path))
