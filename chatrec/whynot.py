"""Why an item is not among the picks: "why not The Lion King?".

Input: the ``Why`` turn (``absent``: its ``refs`` name a catalog item that was not shown; none
when the words named nothing we could find), the dialogue state, the catalog and the
``Evidencer`` (its retriever filters and ranks as the list did). Output: a ``Reply`` that says,
from the item's facts and the request in force, the reasons that hold, in this order:

1. the person turned it down earlier (or said they like it: liked items are not offered back);
2. it breaks the request: each constraint the filter rules it out by, with the item's fact
   (its categories against those asked, its price against the budget, its year, a spec);
3. it was shown earlier in this chat (a new list leaves out what was shown);
4. otherwise it fits: where it ranks among the matches, against the picks, with the people
   evidence where the catalog has it, and how to ask for more like it.

Every title named is the catalog's; every number is the item's own or a count of the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatrec.catalog import Catalog, Item
from chatrec.evidence import Evidencer
from chatrec.facts import fact_values, money, price_text
from chatrec.filters import ItemFilter
from chatrec.text import join
from chatrec.types import Candidate, Constraints, DialogueState, Reply, Spec, Why

RANKED = 200  # the matches ranked to find where an item stands
OPTIONS = 4  # at most this many products offered when the words fit several


def answer(turn: Why, state: DialogueState, catalog: Catalog, evidencer: Evidencer) -> Reply:
    """The reply to "why not X?" (see the module's doc); never the reasons of another item."""
    ids = [i for i in turn.refs if i in catalog]
    if not ids:
        return Reply(unresolved(turn, state, catalog), "why")
    item = catalog.get(ids[0])
    same = {item.id, *catalog.twins(item.id)}
    lines = []
    if same & set(state.rejected):
        lines.append(f"You turned down {item.title} earlier, so I keep it out of your lists.")
    elif same & set(state.liked):
        lines.append(f"You told me you like {item.title}, so I don't offer it back to you.")
    retriever = evidencer.retriever
    filt = retriever.filter if retriever is not None else ItemFilter(catalog)
    broken = breaks(item, state.constraints, filt)
    if broken:
        lines.append(f"{item.title} does not fit your request: {'; '.join(broken)}.")
    if not lines and same & set(state.shown):
        lines.append(
            f"I showed you {item.title} earlier in this chat, and a new list leaves out "
            "what you have already seen."
        )
    return Reply(" ".join(lines or fits(item, state, catalog, evidencer)), "why")


def unresolved(turn: Why, state: DialogueState, catalog: Catalog) -> str:
    """A "why not …?" whose words name no catalog item: what the list is for, or which one."""
    options = [catalog.get(i).title for i in turn.options if i in catalog][:OPTIONS]
    if options:
        return f"Which one do you mean: {join(options, 'or')}?"
    asked = "; ".join(state.request)
    purpose = f" The list is my best picks for “{asked}”." if asked else ""
    if turn.missing:
        return f"I don't have {turn.missing} in this catalog, so I couldn't pick it.{purpose}"
    return (
        "I couldn't tell which one you mean, so I can't say why it isn't in the list."
        f"{purpose} Tell me its title and I'll check."
    )


def breaks(item: Item, c: Constraints, filt: ItemFilter) -> list[str]:
    """Each constraint of ``c`` that the filter rules ``item`` out by, with the item's fact."""
    row = filt.catalog.position(item.id)

    def fails(part: Constraints) -> bool:
        m = filt.mask(part)
        return m is not None and not bool(m[row])

    out = []
    cats = join(list(item.categories)) if item.categories else "no category"
    if c.categories and fails(Constraints(categories=c.categories, allow_addons=True)):
        out.append(f"it is in {cats}, not {join(list(c.categories), 'or')}")
    for cat in c.all_categories:
        if fails(Constraints(all_categories=(cat,), allow_addons=True)):
            out.append(f"it is in {cats}, not {cat}")
    hit = [
        x
        for x in c.exclude_categories
        if fails(Constraints(exclude_categories=(x,), allow_addons=True))
    ]
    if hit:
        out.append(f"it is in {join(hit)}, which you ruled out")
    said = [x for x in c.exclude_names if fails(Constraints(exclude_names=(x,), allow_addons=True))]
    if said:
        out.append(f"it is {join(said, 'or')}, which you ruled out")
    price = Constraints(price_min=c.price_min, price_max=c.price_max, allow_addons=True)
    if fails(price):
        out.append(_price(item, c))
    years = Constraints(year_min=c.year_min, year_max=c.year_max, allow_addons=True)
    if fails(years):
        out.append(
            f"it came out in {item.year}, not {years.describe()}"
            if item.year is not None
            else f"its listing gives no year, and you asked for {years.describe()}"
        )
    if not c.allow_addons and fails(Constraints()):
        out.append("it is an add-on, which a list leaves out unless you ask for add-ons")
    out += [_spec(item, s) for s in c.specs if fails(Constraints(specs=(s,), allow_addons=True))]
    return out


def _price(item: Item, c: Constraints) -> str:
    if item.price is None:
        return "its listing gives no price, so I can't promise it fits your budget"
    if c.price_max is not None and item.price > c.price_max:
        return f"it costs {price_text(item)}, over your {money(c.price_max)} budget"
    low = money(c.price_min) if c.price_min is not None else "the least"
    return f"it costs {price_text(item)}, under the {low} you asked for"


def _spec(item: Item, s: Spec) -> str:
    from chatrec.constraints import item_specs

    values, _ = item_specs(item)
    wanted = s.text or s.name.replace("_", " ")
    value = values.get(s.name)
    if value is None:
        return f"its listing does not show {wanted}"
    return f"its {s.name.replace('_', ' ')} is {value:g}, not {wanted}"


def fits(item: Item, state: DialogueState, catalog: Catalog, evidencer: Evidencer) -> list[str]:
    """Case 4: the item fits; where it ranks among the matches, against the picks shown."""
    shown = [i for i in state.last_shown if i in catalog]
    n = len(shown)
    asked = "; ".join(state.request) or state.topic
    lines = [f"{item.title} fits your request, but the picks shown ranked above it."]
    rank, above = _rank(item, state, shown, evidencer)
    if rank is not None:
        where = f"It is {_ordinal(rank)} among the matches for “{asked}”"
        lines[0] = f"{item.title} fits your request, but it did not make the list."
        lines.append(
            f"{where}, below {'the one pick' if n == 1 else f'all {n} picks'}."
            if above == n
            else f"{where}; the list also keeps its picks from being too alike, "
            "so it made way for them."
        )
    elif evidencer.retriever is not None and asked:
        lines[0] = f"{item.title} fits your request, but it did not make the list."
        lines.append(f"It is not among the {RANKED} closest matches for “{asked}”.")
    lines += _people(item, state, shown, catalog, evidencer)
    facts = fact_values(item)
    if "rating" in facts:
        lines.append(f"It {facts['rating']}.")
    lines.append(f"Say “more like {item.title}” for picks like it.")
    return lines


def _rank(
    item: Item, state: DialogueState, shown: Sequence[str], evidencer: Evidencer
) -> tuple[int | None, int]:
    """The item's place among the retriever's matches to the request in force (None when
    not in the first ``RANKED``), and how many of the picks shown rank above it."""
    retriever, query = evidencer.retriever, state.topic or "; ".join(state.request)
    if retriever is None or not query:
        return None, 0
    ranked = retriever.retrieve(query, state.constraints, (), RANKED)
    place = {c.item.id: n for n, c in enumerate(ranked, 1)}
    rank = place.get(item.id)
    if rank is None:
        return None, 0
    return rank, sum(1 for i in shown if place.get(i, RANKED + 1) < rank)


def _people(
    item: Item, state: DialogueState, shown: Sequence[str], catalog: Catalog, ev: Evidencer
) -> list[str]:
    """The people evidence: of those who loved what the person liked, how many rated the
    item, against the picks (only where the catalog has logged interactions)."""
    if not state.liked or ev.coliked is None:
        return []
    cands = [Candidate(catalog.get(i), 0.0, catalog.position(i)) for i in [item.id, *shown]]
    mine, *theirs = ev.gather(cands, state.liked, state.constraints, state.request)
    out = []
    for p in mine.pulls:
        others = [q.also for e in theirs for q in e.pulls if q.item_id == p.item_id]
        fewer = bool(others) and len(others) == len(theirs) and p.also < min(others)
        text = p.sentence().replace("rated this too", "rated it")
        end = ", fewer than any of the picks." if fewer else "."
        out.append(text[0].upper() + text[1:] + end)
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
