from __future__ import annotations

from pathlib import Path

from chatrec.datasets import data_dir, store


def test_parse_price_rating_discount() -> None:
    assert store.parse_price("$1,299.99 ") == (1299.99, None)
    assert store.parse_price("$299.99through-$449.99") == (299.99, 449.99)
    assert store.parse_price("") == (None, None)
    assert store.parse_rating("Rated 4.5 out of 5 stars based on 60 reviews.") == (4.5, 60)
    assert store.parse_rating("No Reviews") == (None, 0)
    assert store.parse_discount("No Discount") == {}
    assert store.parse_discount("$1,299.99 After $300 OFF") == {
        "discount": "$1,299.99 After $300 OFF",
        "discount_amount": 300.0,
        "regular_price": 1299.99,
    }
    d = store.parse_discount("Price valid through 1/15/24 & Free Shipping*")
    assert d["discount_valid_until"] == "2024-01-15" and d["free_shipping"] is True
    assert store.parse_discount("Special Event - Ends on 01/21/24")["discount_valid_until"] == (
        "2024-01-21"
    )


def test_clean_merges_rows_listed_twice_and_flags_addons(tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_text(
        "Sub Category,Price,Discount,Rating,Title,Currency,Feature\n"
        'TVs,$449.99 ,After $50 OFF,"Rated 4.4 out of 5 stars based on 12 reviews.",'
        'LG 55" TV,$,4K   HDR   Smart\n'
        'TVs,$89.99 ,No Discount,No Reviews,Sanus 42-86" Full Motion TV Mount,$,Tilts\n'
        "Gaming Laptops,$999.99 ,No Discount,,Zen Laptop,$,Fast\n"
        "Laptops,$999.99 ,No Discount,,Zen Laptop,$,Fast\n"
    )
    items = store.clean(src)
    assert [i.title for i in items] == [
        'LG 55" TV',
        'Sanus 42-86" Full Motion TV Mount',
        "Zen Laptop",
    ]
    tv, mount, laptop = items
    assert tv.price == 449.99 and tv.rating == 4.4 and tv.review_count == 12
    assert tv.attributes["features"] == ["4K", "HDR", "Smart"]
    assert tv.attributes["discount_amount"] == 50 and not tv.addon
    assert mount.addon and mount.review_count == 0
    assert laptop.categories == ("Gaming Laptops", "Laptops")
    assert store.clean(src)[0].id == tv.id  # stable ids


def test_committed_store_catalog() -> None:
    cat = store.load(data_dir())
    assert len(cat) == 555  # 643 source rows, 88 listed under two categories
    tvs = [i for i in cat if "TVs" in i.categories]
    assert len(tvs) > 80 and sum(i.addon for i in tvs) == 8  # 5 mounts, 2 services, 1 kit
    ranged = [i for i in cat if i.price_max]
    assert ranged and all(i.price_max > i.price for i in ranged)
    assert all(i.rating is None or 0 <= i.rating <= 5 for i in cat)
    assert (data_dir() / "store" / "SOURCE.md").exists()
