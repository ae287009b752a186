from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.catalog import Catalog, CatalogError, Item, load_catalog_file

from .conftest import FIXTURES


def test_tiny_fixture_loads_with_types_and_free_attributes() -> None:
    cat = load_catalog_file(FIXTURES / "tiny_catalog.jsonl")
    assert len(cat) == 20
    hp = cat.get("hp1")
    assert hp.price == 349.0 and hp.rating == 4.7 and hp.review_count == 1500
    assert hp.attributes == {"color": "black"}  # unknown columns are kept, not dropped
    assert cat.get("mnt1").addon is True
    assert cat.get("lap2").categories == ("Laptops", "Gaming Laptops")


def test_csv_catalog_with_multiline_cell_and_extra_columns(tmp_path: Path) -> None:
    p = tmp_path / "shop.csv"
    p.write_text(
        'id,title,price,categories,brand\n1,Kettle,19.5,Kitchen,Acme\n2,"Toaster\nDeluxe",,Kitchen|Home,\n'
    )
    cat = load_catalog_file(p)
    assert [it.id for it in cat] == ["1", "2"]
    assert cat.get("1").price == 19.5 and cat.get("1").attributes == {"brand": "Acme"}
    assert cat.get("2").price is None  # empty cell = unknown, not zero
    assert cat.get("2").categories == ("Kitchen", "Home")


def test_every_bad_jsonl_row_is_named_by_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    rows = [
        json.dumps({"id": "a", "title": "Fine"}),
        json.dumps({"id": "b"}),  # no title
        "{not json",
        json.dumps({"id": "c", "title": "X", "price": "cheap"}),
        json.dumps({"id": "a", "title": "Again"}),  # duplicate id
        "",
        json.dumps({"id": "d", "title": "Y", "rating": 9}),
        json.dumps(["a", "list"]),
    ]
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(CatalogError) as info:
        load_catalog_file(p)
    errors = info.value.errors
    assert [e.split(":")[1] for e in errors] == ["2", "3", "4", "5", "7", "8"]
    assert all(e.startswith(f"{p}:") for e in errors)
    assert "title" in errors[0]
    assert "not valid JSON" in errors[1]
    assert "price" in errors[2]
    assert "duplicate id 'a' (first on line 1)" in errors[3]
    assert "rating" in errors[4]
    assert "JSON object" in errors[5]


def test_bad_csv_rows_report_their_physical_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text('id,title,year\n1,"Two\nlines",1999\n2,,2001\n3,Ok,12345\n')
    with pytest.raises(CatalogError) as info:
        load_catalog_file(p)
    assert [e.split(":")[1] for e in info.value.errors] == ["4", "5"]


def test_csv_without_id_column_and_non_utf8_and_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "noid.csv").write_text("name,title\nx,y\n")
    with pytest.raises(CatalogError, match="'id' and 'title'"):
        load_catalog_file(tmp_path / "noid.csv")
    (tmp_path / "latin.jsonl").write_bytes(b'{"id": "1", "title": "Caf\xe9"}\n')
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog_file(tmp_path / "latin.jsonl")
    (tmp_path / "x.xml").write_text("<x/>")
    with pytest.raises(CatalogError, match="unsupported format"):
        load_catalog_file(tmp_path / "x.xml")
    with pytest.raises(FileNotFoundError):
        load_catalog_file(tmp_path / "missing.jsonl")


def test_content_hash_changes_with_any_field() -> None:
    a = Catalog("x", [Item(id="1", title="A", price=1.0)])
    b = Catalog("x", [Item(id="1", title="A", price=1.5)])
    assert a.content_hash() != b.content_hash()
    assert a.content_hash() == Catalog("x", [Item(id="1", title="A", price=1.0)]).content_hash()


def test_one_thing_under_two_ids_is_found_and_same_titles_that_differ_are_not() -> None:
    film = {"title": "Chasing Amy (1997)", "categories": ["Drama", "Romance"], "year": 1997}
    laptop = {"title": "HP Envy 17", "categories": ["Laptops"], "price": 1399.0}
    cat = Catalog(
        "t",
        [
            Item(id="246", **film, rating=3.8),
            Item(id="268", **film, rating=3.6),  # MovieLens lists this film twice
            Item(id="1", title="Clerks (1994)", year=1994),
            Item(id="e1", **laptop, text="16GB RAM"),
            Item(id="e2", **laptop, text="32GB RAM"),  # same title, another machine
        ],
    )
    assert cat.twins("246") == ("268",) and cat.twins("268") == ("246",)
    assert cat.twins("1") == () and cat.twins("e1") == ()
    assert cat.with_twins(["1", "268", "gone"]) == ("1", "268", "gone", "246")


def test_non_finite_and_negative_numbers_are_refused_in_jsonl(tmp_path: Path) -> None:
    # Python's json reads NaN and Infinity: a price of Infinity was shown as "$inf".
    p = tmp_path / "odd.jsonl"
    p.write_text(
        "\n".join(
            [
                '{"id": "ok", "title": "Fine", "price": 10, "rating": 4.5, "year": 2001}',
                '{"id": "a", "title": "A", "price": Infinity}',
                '{"id": "b", "title": "B", "price_max": -Infinity}',
                '{"id": "c", "title": "C", "rating": NaN}',
                '{"id": "d", "title": "D", "review_count": Infinity}',
                '{"id": "e", "title": "E", "year": NaN}',
                '{"id": "f", "title": "F", "price": -5}',
                '{"id": "g", "title": "G", "price": 1e999}',
                '{"id": "h", "title": "H", "weight_kg": NaN}',
            ]
        )
        + "\n"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog_file(p)
    errors = info.value.errors
    assert [e.split(":")[1] for e in errors] == ["2", "3", "4", "5", "6", "7", "8", "9"]
    fields = ["price", "price_max", "rating", "review_count", "year", "price", "price", "weight"]
    for error, name in zip(errors, fields, strict=True):
        assert error.startswith(f"{p}:") and name in error, error
    assert "finite number (got inf)" in errors[0] and "(got nan)" in errors[2]
    assert "greater than or equal to 0 (got -5)" in errors[5]
    assert "NaN or Infinity" in errors[7]


def test_non_finite_and_negative_numbers_are_refused_in_csv(tmp_path: Path) -> None:
    p = tmp_path / "odd.csv"
    p.write_text(
        "id,title,price,price_max,rating,review_count,year\n"
        "ok,Fine,10,12,4.5,3,2001\n"
        "a,A,inf,,,,\n"
        "b,B,,-Infinity,,,\n"
        "c,C,,,NaN,,\n"
        "d,D,,,,Infinity,\n"
        "e,E,,,,,nan\n"
        "f,F,-0.01,,,,\n"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog_file(p)
    errors = info.value.errors
    assert [e.split(":")[1] for e in errors] == ["3", "4", "5", "6", "7", "8"]
    fields = ["price", "price_max", "rating", "review_count", "year", "price"]
    for error, name in zip(errors, fields, strict=True):
        assert f": {name}: " in error, error
    assert "(got 'inf')" in errors[0] and "(got '-0.01')" in errors[5]
