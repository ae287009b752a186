"""The evaluation split (time-ordered leave-one-out) and the collaborative scorers."""

from __future__ import annotations

import numpy as np

from chatrec.catalog import Catalog, Item
from chatrec.collab import ItemKNN, Popularity, Transitions
from chatrec.datasets.movielens import MovieLens
from chatrec.datasets.split import leave_one_out


def _ml(rows: list[tuple[int, int, float, int]], n_items: int = 6) -> MovieLens:
    """rows: (user, item position, rating, timestamp), in file order."""
    cat = Catalog("m", [Item(id=str(i + 1), title=f"Film {i + 1}") for i in range(n_items)])
    u, i, r, t = (np.array(c) for c in zip(*rows, strict=True))
    return MovieLens(cat, u.astype(np.int32), i.astype(np.int32), r.astype(np.float32), t)


def test_last_is_test_second_last_is_validation_and_ties_keep_file_order() -> None:
    ml = _ml(
        [
            (1, 3, 5, 30), (1, 0, 4, 10), (1, 1, 3, 20), (1, 2, 1, 20), (1, 5, 2, 40),
            (2, 4, 5, 5), (2, 0, 4, 5),  # user 2 has too few items: dropped
            (3, 2, 4, 1), (3, 1, 4, 2), (3, 0, 4, 3),
        ]
    )  # fmt: skip
    sp = leave_one_out(ml)
    assert sp.users.tolist() == [1, 3]
    # user 1 by time: 0 (10), 1 (20), 2 (20, after 1 in the file), 3 (30), 5 (40)
    assert sp.sequences[0].tolist() == [0, 1, 2, 3, 5]
    assert sp.target(0, "test") == 5 and sp.target(0, "valid") == 3
    assert sp.history(0, "valid").tolist() == [0, 1, 2]
    assert sp.history(0, "test").tolist() == [0, 1, 2, 3]
    assert sp.history_ratings(0, "valid").tolist() == [4, 3, 1]
    m = sp.train_matrix()
    assert m[0].nonzero()[0].tolist() == [0, 1, 2]  # neither the validation nor the test item
    assert m[1].nonzero()[0].tolist() == [2]


def test_transitions_follow_what_came_next() -> None:
    seqs = [np.array([0, 1, 2]), np.array([0, 1, 3]), np.array([4, 3, 5])]
    tr = Transitions(window=1).fit(seqs, 6)
    s = tr.score([np.array([0])])[0]
    assert int(np.argmax(s)) == 1  # everyone who rated 0 rated 1 next
    s = tr.score([np.array([4, 3])])[0]
    assert s[5] > s[2]  # the most recent item decides most


def test_itemknn_and_popularity() -> None:
    seqs = [np.array([0, 1]), np.array([0, 1, 2]), np.array([2, 3]), np.array([1])]
    knn = ItemKNN(k=2, shrink=0.0).fit(seqs, 4)
    s = knn.score([np.array([0])])[0]
    assert int(np.argmax(s)) == 1 and s[3] == 0
    pop = Popularity().fit(seqs, 4)
    assert int(np.argmax(pop.score([np.array([])])[0])) == 1
