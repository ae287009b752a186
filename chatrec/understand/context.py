"""What reading a message needs to know about a catalog (``DialogueContext``), built once per
recommender; every stage of ``dialogue.update`` reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatrec.catalog import Catalog, Item
from chatrec.constraints import Lexicon
from chatrec.filters import SpecTable
from chatrec.mentions import TitleMatcher
from chatrec.qa import Policies, Resolver, common_words

if TYPE_CHECKING:
    from chatrec.datasets import CatalogInfo
    from chatrec.understand import Parser


@dataclass(frozen=True)
class DialogueContext:
    """What reading a message needs to know about the catalog; built once per recommender."""

    lexicon: Lexicon
    catalog: Catalog | None = None
    matcher: TitleMatcher | None = None
    spec_names: frozenset[str] | None = None  # the specs its listings state (None: any)
    newest_year: int | None = None
    oldest_year: int | None = None
    has_prices: bool = True
    resolver: Resolver | None = None  # product names in questions (shops: titles are long)
    policies: Policies | None = None  # the store's policies, for policy questions
    parser: Parser | None = None  # the learned dialogue-act parser (None: the rules alone)
    info: CatalogInfo | None = None  # the catalog card: mood hints, what it does not hold

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        lexicon: Lexicon,
        policies: Policies | None = None,
        specs: SpecTable | None = None,
    ) -> DialogueContext:
        """``specs``: the catalog's ``SpecTable`` when one is built already (the filter's)."""
        years = [it.year for it in catalog if it.year is not None]
        has_prices = any(it.price is not None for it in catalog)
        return cls(
            lexicon=lexicon,
            catalog=catalog,
            matcher=TitleMatcher(catalog, reserved=lexicon.aliases),
            spec_names=(specs or SpecTable(catalog.items)).available,
            newest_year=max(years) if years else None,
            oldest_year=min(years) if years else None,
            has_prices=has_prices,
            resolver=Resolver(catalog, lexicon, common=common_words()) if has_prices else None,
            policies=policies,
        )

    def item(self, item_id: str) -> Item | None:
        if self.catalog is None or item_id not in self.catalog:
            return None
        return self.catalog.get(item_id)
