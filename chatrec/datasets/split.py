"""The fixed evaluation split of DESIGN.md: time-ordered leave-one-out over MovieLens-100k.

Input: ``MovieLens`` interactions. Output: ``Split``: per user, the items in time order
(ties keep the file's order, so the split is the same on every machine), the last one the
test target, the one before it the validation target, the rest training. Every rating counts
as an interaction. Nothing here looks at a rating's value except ``liked`` (history text).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chatrec.datasets.movielens import MovieLens


@dataclass(frozen=True)
class Split:
    """Leave-one-out split. Item indices are positions in ``catalog.items``."""

    n_items: int
    users: np.ndarray  # (U,) int user ids, ascending
    sequences: list[np.ndarray]  # U arrays (L_u,) int32 item positions, oldest first
    ratings: list[np.ndarray]  # U arrays (L_u,) float32, aligned with ``sequences``
    _train_matrix: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def train(self, u: int) -> np.ndarray:
        """(L_u - 2,) training items of user row ``u`` (not id), oldest first."""
        return self.sequences[u][:-2]

    def history(self, u: int, stage: str) -> np.ndarray:
        """What the model may see when predicting ``stage``: 'valid' -> train, 'test' -> train +
        the validation item."""
        return self.sequences[u][:-2] if stage == "valid" else self.sequences[u][:-1]

    def target(self, u: int, stage: str) -> int:
        return int(self.sequences[u][-2] if stage == "valid" else self.sequences[u][-1])

    def history_ratings(self, u: int, stage: str) -> np.ndarray:
        return self.ratings[u][:-2] if stage == "valid" else self.ratings[u][:-1]

    def train_matrix(self) -> np.ndarray:
        """(U, n_items) float32 0/1: the training interactions only (no valid/test item)."""
        if "m" not in self._train_matrix:
            m = np.zeros((len(self.users), self.n_items), dtype=np.float32)
            for u in range(len(self.users)):
                m[u, self.train(u)] = 1.0
            self._train_matrix["m"] = m
        return self._train_matrix["m"]


def leave_one_out(ml: MovieLens) -> Split:
    """Per user, order by timestamp (stable: ties keep file order); needs >= 3 items each."""
    order = np.lexsort((np.arange(len(ml.users)), ml.timestamps, ml.users))  # user, time, row
    users_sorted = ml.users[order]
    bounds = np.flatnonzero(np.diff(users_sorted)) + 1
    seqs, rats, ids = [], [], []
    for chunk in np.split(order, bounds):
        if len(chunk) < 3:
            continue
        ids.append(int(ml.users[chunk[0]]))
        seqs.append(ml.items[chunk].astype(np.int32))
        rats.append(ml.ratings[chunk].astype(np.float32))
    return Split(len(ml.catalog), np.array(ids), seqs, rats)
