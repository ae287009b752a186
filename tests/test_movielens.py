from __future__ import annotations

import numpy as np
import pytest

from chatrec.config import RuntimeConfig
from chatrec.datasets import movielens


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Godfather, The", "The Godfather"),
        ("Toy Story", "Toy Story"),
        (
            "Horseman on the Roof, The (Hussard sur le toit, Le)",
            "The Horseman on the Roof (Le Hussard sur le toit)",
        ),
        ("Star Maker, The (Uomo delle stelle, L')", "The Star Maker (L'Uomo delle stelle)"),
        ("Jungle Book, The", "The Jungle Book"),
    ],
)
def test_natural_title(raw: str, shown: str) -> None:
    assert movielens.natural_title(raw) == shown


def test_missing_wheel_names_the_fetch_command(tmp_path) -> None:
    with pytest.raises(movielens.DataMissingError, match="chatrec data fetch"):
        movielens.load(tmp_path)


@pytest.mark.integration
def test_real_movielens_100k() -> None:
    ml = movielens.load(RuntimeConfig().cache_dir)
    cat = ml.catalog
    assert len(cat) == 1682 and len(ml.ratings) == 100_000
    assert len(np.unique(ml.users)) == 943
    assert cat.get("127").title == "The Godfather (1972)"
    assert cat.get("1").title == "Toy Story (1995)"
    assert set(cat.get("1").categories) == {"Animation", "Children's", "Comedy"}
    assert cat.get("1").review_count == int((ml.items == cat.position("1")).sum())
    assert ml.ratings.min() == 1 and ml.ratings.max() == 5
