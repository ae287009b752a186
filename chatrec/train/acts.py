"""The dialogue-act parsers' training corpus: dialogue plus interaction data.

Two sources (``data/understanding/README.md`` is the dataset card):

- the labelled turns in ``data/understanding/train_*.jsonl``: user turns in context, in many
  voices, written with a large language-model assistant from the labelling guide and checked
  against the catalogs (``chatrec data check-acts``);
- turns built here from real MovieLens-100k TRAINING interactions (``interaction_turns``): a
  real person's highly rated films (never their validation or test item, DESIGN.md's split)
  become "I loved X and Y…" with the act that names them, and the genre they share.

The frozen held-out set (``data/eval/understanding_holdout.jsonl``) is never read here.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from chatrec.act import DialogueAct
from chatrec.config import RuntimeConfig
from chatrec.datasets import data_dir
from chatrec.datasets import movielens as ml_data
from chatrec.datasets.split import leave_one_out
from chatrec.eval.acts import Context, LabelledTurn, load
from chatrec.understand.spans import title_core

# How people name favourites; {a}, {b}, {c} are titles as typed, {g} a genre word.
_SAY: list[tuple[str, str]] = [
    ("recommend", "I loved {a}, anything similar?"),
    ("recommend", "i really enjoyed {a} and {b}. got anything like them?"),
    ("recommend", "big fan of {a}. what should I watch next?"),
    ("recommend", "we watched {a} last weekend and adored it, more like that please"),
    ("recommend", "{a} and {b} are two of my all time favourites - suggestions?"),
    ("recommend", "something in the spirit of {a}? mostly into {g}"),
    ("recommend", "just rewatched {a} lol. more like that"),
    ("recommend", "Could you recommend films similar to {a} or {c}?"),
    ("onboarding", "I'm new here. My favourites are {a}, {b} and {c}."),
    ("onboarding", "first time using this - I like {g} films, e.g. {a}"),
    ("onboarding", "hi, new member. I enjoy {g} movies like {a} and {b}"),
    ("onboarding", "New here! Loved {a} as a kid and still love {b}."),
]
_GENRE_WORDS = {
    "Sci-Fi": "sci-fi",
    "Film-Noir": "noir",
    "Children's": "family",
}


def typed(title: str, rng: random.Random) -> str:
    """A catalog title as people type it: no year, sometimes lower case, sometimes no article."""
    name = title_core(title)
    if rng.random() < 0.3:
        name = name.lower()
    if rng.random() < 0.2 and name.lower().startswith("the "):
        name = name[4:]
    return name


def interaction_turns(n: int = 600, seed: int = 0) -> list[LabelledTurn]:
    """``n`` labelled turns from real people's TRAINING interactions (rating >= 4)."""
    ml = ml_data.load(RuntimeConfig().cache_dir)
    split = leave_one_out(ml)
    items = list(ml.catalog)
    rng = random.Random(seed)
    out: list[LabelledTurn] = []
    rows = list(range(len(split.users)))
    while len(out) < n:
        u = rng.choice(rows)
        train = split.train(u)
        liked = [
            int(i) for i, r in zip(train, split.ratings[u][: len(train)], strict=True) if r >= 4
        ]
        if len(liked) < 3:
            continue
        picks = [items[i] for i in rng.sample(liked, 3)]
        genres = Counter(g for it in picks for g in it.categories)
        genre, count = genres.most_common(1)[0]
        intent, template = rng.choice(_SAY)
        names = [typed(it.title, rng) for it in picks]
        used = [
            it.title for it, key in zip(picks, "abc", strict=True) if "{" + key + "}" in template
        ]
        message = template.format(
            a=names[0], b=names[1], c=names[2], g=_GENRE_WORDS.get(genre, genre.lower())
        )
        act = {"intent": intent, "liked": used}
        if "{g}" in template and count >= 2:
            act["categories"] = [genre]
        elif "{g}" in template:
            continue  # the genre word must be what the titles share
        out.append(
            LabelledTurn(
                id=f"ml-{len(out) + 1:04d}-u{int(split.users[u])}",  # whose interactions
                catalog="movies",
                context=Context(),
                message=message,
                act=DialogueAct(**act),
            )
        )
    return out


def dev_split(
    turns: list[LabelledTurn], rng: random.Random, parts: int = 10
) -> tuple[list[LabelledTurn], list[LabelledTurn]]:
    """(development, training) turns: ``turns`` shuffled by ``rng`` in place, one
    ``parts``-th of them (at least one) held aside. Both parsers draw it from ``Random(seed)``."""
    rng.shuffle(turns)
    n_dev = max(1, len(turns) // parts)
    return turns[:n_dev], turns[n_dev:]


def corpus(
    folder: Path | None = None, interactions: int = 600, seed: int = 0
) -> list[LabelledTurn]:
    """Every training turn: the written sets, then the interaction turns."""
    folder = folder or data_dir() / "understanding"
    turns = [t for path in sorted(folder.glob("train_*.jsonl")) for t in load(path)]
    return turns + interaction_turns(interactions, seed)
