"""Dialogue state: what the person asked for so far, what was shown, and this turn's intent.

Input: the state, one raw message and the catalog's ``DialogueContext``. Output: the updated
state and a ``Turn``: clean text, intent, the constraints in force, the retrieval query, the
ids to leave out, the items the message points at, and anything to tell or ask the person.
Messages are untrusted: empty, binary, huge, marked-up or hostile input is recognised here
and never reaches a model unbounded.

Intents, in the order they are recognised:
- ``out_of_scope``: binary noise, prompt injection, questions about other people's data,
  accounts, credentials or this service's database ("list every user"), off-topic
  requests ("what's the weather"), a message in another language with nothing we can
  read. Nothing of such a turn is written to the state.
- ``chit_chat``: greetings, thanks, "what can you do", an empty message.
- ``clarify``: the message contradicts itself ("under $200 but over $500", "a 90s film
  from after 2005"), asks for years the catalog does not have, or points at an item that
  was not shown ("the seventh one" of five). We ask; nothing is committed.
- ``recommend`` with ``like``: "more like Fargo", "similar to the second one": the query is
  the liked items' text, and the liked items are left out.
- ``feedback``: "not that one", "I've seen it" (ids go to ``rejected``, the turn
  re-recommends); "I like the first one", 👍 (ids go to ``liked``).
- ``product_question``: "how much is the second one?", "what's the rating of Fargo?".
- ``onboarding``: a person describing their tastes ("I'm new, I love 90s sci-fi"); titles
  they name go to ``liked`` and are left out of what we show.
- ``recommend`` / ``refine``: a new request, or one that narrows the current one.
"""

from __future__ import annotations

import copy
import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from chatrec.catalog import Catalog, Item
from chatrec.constraints import Lexicon, parse
from chatrec.filters import SpecTable
from chatrec.mentions import TitleMatcher
from chatrec.qa import (
    Policies,
    Resolver,
    common_words,
    compare_op,
    feature_term,
    unknowable,
)
from chatrec.text import words
from chatrec.types import MAX_K, Constraints, DialogueState, Intent, Turn
from chatrec.understand import read

if TYPE_CHECKING:
    from chatrec.datasets import CatalogInfo
    from chatrec.understand import Parser

MAX_CHARS = 10_000  # longer messages are cut (and the reply says so)
QUERY_CHARS = 1_000  # what retrieval reads of a message


_MORE = re.compile(
    r"\b(more|other|others|another|else|different|again|next|new ones|alternatives?)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|yo|thanks|thank you|thx|good (morning|evening|afternoon)|bye)"
    r"(\s+(there|all|everyone|folks|team|again|friend|bot))?\b[\s!.?,]*$",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^\s*(how are you( doing)?|who are you|what are you|what can you do|help|ok(ay)?|cool|"
    r"nice|lol|great|yes|no|sure|thanks?( you)?( so much| a lot)?|goodbye|see you)[\s!.?]*$",
    re.IGNORECASE,
)

# --- hostile or odd input -----------------------------------------------------------------
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|the|your|my|these|those|of)\s+)*"
    r"(?:(?:previous|prior|above|earlier|preceding|system|original|initial|safety)\s+)*"
    r"(?:instructions?|prompts?|rules|directions|guidelines|context|messages|restrictions)"
    r"|\bsystem\s+(?:prompt|message|instructions?)"
    r"|\b(?:reveal|show|print|repeat|output|display|tell me|leak|dump|give me|what (?:is|are))"
    r"\s+(?:me\s+)?(?:your|the)\s+(?:\w+\s+)?(?:prompt|instructions|rules|guidelines|configuration)"
    r"|\byou are now\b|\bpretend (?:to be|you are)\b|\bjailbr[eo]ak|\bdeveloper mode\b"
    r"|\bdo anything now\b|\bact as (?:an? )?(?:unrestricted|unfiltered|jailbroken|evil|different)"
    r"|</?\s*(?:system|assistant)\s*>|\[/?inst\]|<\|im_(?:start|end)\|>|#{2,}\s*(?:system|instruction)",
    re.IGNORECASE,
)
_DAN = re.compile(r"\bDAN\b")
_DATA = (
    r"(?:orders?|purchases?|history|account|watch ?list|ratings?|data|profile|address|e-?mails?|"
    r"passwords?|cart|payment|credit card|phone number|reviews)"
)
_PRIVACY = re.compile(
    r"\buser\s*(?:#|no\.?|id)?\s*\d+\b"
    r"|\b(?:other|another|different|some other|all)\s+(?:users?|customers?|members?|people|"
    r"shoppers?|accounts?)(?:'s|s')?\s+(?:\w+\s+)?"
    + _DATA
    + r"|\b(?:[a-z]+|my \w+)'s\s+"
    + _DATA
    + r"\b"
    r"|\b(?:his|her|their|someone(?: else)?'s|somebody(?: else)?'s)\s+" + _DATA + r"\b"
    r"|\bwhat did (?!i\b|you\b|we\b)(?:[a-z]+|user \d+|my \w+)\s+(?:watch|buy|order|rate|purchase)",
    re.IGNORECASE,
)
_OFF_TOPIC = re.compile(
    r"\b(?:weather|forecast|headlines|joke|president|prime minister|capital of|time is it|"
    r"today'?s date|recipe|translate|homework|poem|essay|write (?:me )?(?:a|an|some) "
    r"(?:code|program|script|story|song)|python|javascript|bitcoin|stock price|who won|"
    r"meaning of life|lottery)\b|^\s*(?:what(?:'s| is)|calculate)?\s*\d+\s*[-+*/x]\s*\d+\s*\??\s*$",
    re.IGNORECASE,
)
# Function words of other languages (none of them English words): two or more, and more of
# them than English function words, means the message is not in English.
_FOREIGN = words(
    "quiero busco necesito película películas peliculas una unos unas los las del por favor "
    "para sin muy barato barata algo bueno buena gracias hola je cherche veux voudrais une "
    "des pour avec sans très pas cher bonjour merci ich suche möchte brauche einen eine der "
    "das und für mit ohne bitte billig günstig nicht danke hallo vorrei cerco voglio gli per "
    "senza grazie ciao eu quero procuro um uma os obrigado também não"
)
_ENGLISH = words(
    "the a an i you me my want need looking for with and or show recommend something movie "
    "film under from please some good is are what how like any of to in"
)

# --- references to earlier picks ----------------------------------------------------------
_ORDINAL = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "6th": 6,
    "7th": 7,
    "8th": 8,
    "9th": 9,
    "10th": 10,
    "last": -1,
}
_NUMBER = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_NUMBER.update({"nine": 9, "ten": 10, "dozen": 12, "a dozen": 12, "hundred": 100})
_NUMBER.update({"a hundred": 100, "thousand": 1000, "a thousand": 1000, "million": 10**6})
_NUMBER.update({"a million": 10**6, "billion": 10**9, "a billion": 10**9, "trillion": 10**12})
_NUMBER.update({"a trillion": 10**12, "zillion": 10**15, "a zillion": 10**15})
_ORD = "|".join(sorted(_ORDINAL, key=len, reverse=True))
_NOT_A_PICK = r"(?!\s+(?:time|thing|place|day|week|month|year|of|half|date|impression))"
_FIRST_N = re.compile(
    r"\b(?:the\s+)?(?P<side>first|top|last)\s+(?P<n>two|three|four|five|[2-5])\b(?!\s*(?:\$|dollars|inch|gb))"
)
_ORD_REF = re.compile(
    rf"\bthe\s+(?P<o1>{_ORD})\b{_NOT_A_PICK}"
    rf"|\b(?P<o2>{_ORD})\s+(?:one|pick|item|option|choice|suggestion|film|movie|product|result)\b"
)
_NUM_REF = re.compile(
    r"#\s?(?P<n1>\d{1,2})\b|\b(?:number|no\.|item|option|pick|result)\s*#?\s?(?P<n2>\d{1,2})\b"
    r"|\bnumber\s+(?P<n3>one|two|three|four|five|six|seven|eight|nine|ten)\b"
)
_ALL_REF = re.compile(
    r"\b(?:all of (?:them|those|these)|none of (?:them|those|these)|all (?:three|four|five)"
    r"|those|these|them)\b(?!\s+(?:kinds?|types?|sorts?|days|guys|of)\b)"
)
_BOTH = re.compile(r"\bboth\b")
_PRONOUN = re.compile(r"\b(?:(?:that|this)(?:\s+one)?|it)\b|👍|👎|\bthumbs (?:up|down)\b")

# --- what a turn is about -----------------------------------------------------------------
_LIKE_CUE = re.compile(
    r"(?:\b(?:more|something|anything|stuff|films?|movies?|ones|others|products?|items?|"
    r"things?|some(?:thing)?|titles?)\s+(?:just\s+|a\s+bit\s+|kind\s+of\s+)?like\b"
    r"|\bsimilar(?:\s+ones?)?(?:\s+to)?\b|\balong the lines of\b|\bin the vein of\b"
    r"|\bin the style of\b|\breminiscent of\b|\bcomparable to\b|^\s*like\b|\bmore of\b)"
)
_NEGATIVE = re.compile(
    r"\bnot\s+(?:that|this|the|those|these|it|#|number|\w+\s+one)\b"
    r"|\b(?:i'?ve|i have|we'?ve|we have|already)\s+(?:already\s+)?(?:seen|watched|got|bought|own|"
    r"have|read)\b|\balready (?:have|own|seen|watched)\b|\bi own\b|\bseen (?:it|that|them)\b"
    r"|\b(?:don'?t|do not|didn'?t) (?:like|want|need|care for)\b|\bdislike\b|\bhate\b"
    r"|\bnot interested\b|\bno thanks\b|\bnope\b|\bnone of\b|👎|\bthumbs down\b"
)
_POSITIVE = re.compile(
    r"\b(?:i\s+)?(?:really\s+)?(?:like|love|liked|loved|enjoy(?:ed)?|prefer|want|'ll take|"
    r"will take)\b|\b(?:looks|sounds|seems|is)\s+(?:really\s+)?(?:good|great|perfect|nice|"
    r"interesting|cool|awesome)\b|👍|❤️|\bthumbs up\b|\bperfect\b"
)
_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:how|what|what's|whats|which|does|do|is|are|can|could|will|would|when|who|"
    r"tell me|any info|info on|details)\b",
    re.IGNORECASE,
)
_WANTS_LIST = re.compile(
    r"\b(?:recommend|suggest|show me|find me|looking for|search for|do you (?:have|sell|carry)|"
    r"got any|give me|i want|i need|what are (?:some|the best|good)|any good \w+s\b)"
)
_FACTS = {
    "price": r"\b(?:price[ds]?|cost|costs|how much|pricey|expensive|go(?:es|ing)? for|"
    r"want for|charge for|sell(?:ing)? (?:it|them|for)|sells? for|set me back|"
    r"what(?:'s| is) it at|asking (?:for|price)|what'?d i pay|what would i pay|"
    r"how much would i pay)\b",
    "discount": r"\b(?:discount(?:ed)?|on sale|sale|deal|off|savings?|save|reduction|reduced|"
    r"markdown|marked down|price cut|knocked off)\b",
    "rating": r"\b(?:rating|rated|reviews?|reviewers|stars?|good|any good|worth it|popular|"
    r"satisfied|satisfaction|feedback|weighed in|how many (?:people|ppl|folks)|"
    r"score|out of (?:5|five)|"
    r"(?:people|buyers|customers|folks) (?:actually )?(?:like|love|think))\b",
    "year": r"\b(?:year|released|come out|came out|how old|when was)\b",
    "category": r"\b(?:genres?|category|categories|kind of|type of|section|dept|department|"
    r"aisle|listed (?:in|under)|find (?:it|that|this) under|filed under|"
    r"part of the (?:catalog|store|shop|site))\b",
}
_FEATURE = re.compile(
    r"\b(?:have|has|got|support|supports|come with|comes with|include|includes|with)\s+"
    r"(?:an?\s+|the\s+|any\s+)?(?P<term>[a-z0-9][a-z0-9+\- ]{1,30}?)\s*(?:\?|$|,|\band\b|\bor\b)"
)
_NEW_PERSON = re.compile(
    r"\b(?:i'?m new|i am new|new here|first time(?: here)?|just (?:joined|signed up)|"
    r"never used this)\b"
)
_TASTES = re.compile(
    r"\b(?:i|we)\s+(?:really\s+|usually\s+|mostly\s+|also\s+|just\s+)?(?:love|like|enjoy|adore|"
    r"prefer|watch|am into|'m into)\b|\bi'?m (?:really |a )?(?:into|fan of|big fan of)\b"
    r"|\bmy favou?rites?\b|\bfavou?rite (?:films?|movies?|genres?|brands?)\b|\bfan of\b"
)
_CHEAPER = re.compile(
    r"\b(?:cheaper|less expensive|more affordable|lower[- ]priced|less pricey|lower price|"
    r"more budget[- ]friendly)\b(?!\s+than\s+\$?\s?\d)"
)
_PRICIER = re.compile(
    r"\b(?:more expensive|pricier|higher[- ]end|more high[- ]end|higher[- ]priced|more premium|"
    r"fancier|"
    r"more upmarket)\b(?!\s+than\s+\$?\s?\d)"
)
# A person's name after "with"/"by"/"starring" (films only: in a shop "with Dolby Atmos" is a
# feature, not a person).
_PERSON = re.compile(r"\b(?:with|by|starring|featuring)\s+[A-Z][a-z]+\s+[A-Z][a-z]+(?:\s|$|[,.!?])")
_MONEY_WORDS = re.compile(r"\$\s?\d|\b\d+\s?(?:dollars|bucks)\b|\bcheaper\b|\bprice[sd]?\b")
_FILLER = words(
    "more like similar to something anything stuff films film movies movie ones one others "
    "other products items things some please the a an of that this it those these me show "
    "give find recommend suggest just kind bit along lines vein style i want need would "
    "love and or but with like"
)


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


def clean_message(message: object) -> tuple[str, str]:
    """(text, notice): printable text, cut to MAX_CHARS; notice says what was done."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    if not isinstance(message, str):
        message = "" if message is None else str(message)
    if not message:
        return "", ""
    # Binary noise: control characters (other than whitespace) or replacement characters.
    bad = sum(
        1
        for ch in message[:MAX_CHARS]
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r")
    )
    if bad > max(3, len(message[:MAX_CHARS]) // 20):
        return "", "binary"
    text = "".join(
        ch for ch in message if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\t\n\r"
    )
    notice = ""
    if len(text) > MAX_CHARS:
        text, notice = text[:MAX_CHARS], "long"
    return " ".join(text.split()), notice


_SCRIPT = re.compile(r"<\s*(script|style|iframe|object)\b.*?(?:<\s*/\s*\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]*>")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(`{1,3}|\*{1,3}|_{2,3}|~~|^#{1,6}\s|^>\s)", re.M)


def strip_markup(text: str) -> tuple[str, bool]:
    """(text, changed): HTML tags (script/style with their content), entities and markdown
    removed, so that no markup is ever echoed or embedded."""
    out = text
    for _ in range(2):  # entities may hide tags: "&lt;script&gt;"
        out = _SCRIPT.sub(" ", out)
        out = _TAG.sub(" ", out)
        out = html.unescape(out)
    out = _MD_IMAGE.sub(r"\1", out)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_MARKS.sub(" ", out)
    out = out.replace("<", " ").replace(">", " ")
    out = " ".join(out.split())
    return out, out != " ".join(text.split())


# Insults aimed at the bot: a polite reply, nothing else of the turn acted on.
_ABUSE = re.compile(
    r"\b(?:you(?:'re| are)?|this bot|stupid bot|dumb bot)\s+(?:\w+\s+){0,2}?(?:a\s+)?"
    r"(?:stupid|useless|idiot(?:ic)?|dumb|moron(?:ic)?|pathetic|garbage|trash|worthless|suck)"
    r"|\b(?:shut up|screw you|f+u+c+k+\s*(?:you|off|this)|go to hell|i hate you)\b",
    re.I,
)
_ROLE_PREFIX = re.compile(r"^\s*(?:system|assistant|admin|developer|root)\s*:", re.I)
# Asking for help to spy on or break into other people's things.
_HARM = re.compile(
    r"\b(?:hack|break into|get into|spy on|snoop on|access|watch|see)\s+(?:\w+\s+){0,3}?"
    r"(?:neighbou?r'?s?|ex'?s?|wife'?s?|husband'?s?|partner'?s?|boss'?s?|someone(?: else)?'?s?|"
    r"other people'?s?)\b|\bwithout (?:them|him|her|anyone|my \w+) (?:knowing|noticing)\b",
    re.I,
)


# Other people's data or this service's own (accounts, credentials, the database, its admin):
# never a product request. Each pattern needs a request for it, so that a "password manager",
# a "database book", "gaming sessions" or "a gift for my user group" stay shopping.
_ACCOUNTS = r"(?:users?|customers?|accounts?|members?|shoppers?|visitors?|clients?)"
_SECRET = (
    r"(?:passwords?|passwd|tokens?|api[ -]?keys?|secret keys?|secrets|credentials|"
    r"session (?:ids?|keys?|cookies?|tokens?)|cookies|password hash(?:es)?|hashes)"
    r"(?!\s*(?:managers?|vaults?|keepers?|generators?|protect\w*|books?|apps?|software|safes?))"
)
_SYSTEM = (
    r"(?:(?:user|customer|production|sql|sqlite|postgres(?:ql)?|whole|entire|full)\s+)?"
    r"(?:database|db|schema|backend|back-end|server logs?|logs|sessions|chat logs?|chats|"
    r"conversations|chat histor(?:y|ies)|user data|personal data|e-?mail addresses|emails|"
    r"phone numbers|(?:users?|sessions?|accounts?|customers?|orders?|turns?|feedback|"
    r"profiles?|tokens?|passwords?|messages?|chats?)\s+tables?)"
)
_THEIRS = r"(?:'s|s'|')"
_TALK = (
    r"(?:chats?|conversations?|chat histor(?:y|ies)|messages?|questions?|searches|"
    r"search histor(?:y|ies)|queries|sessions?|requests?|prompts?|logs?)"
)
_OTHERS = r"(?:people|person|users?|customers?|members?|shoppers?|visitors?)"
_PRIVATE_PATTERNS = (
    # "the token of every user", "the password for user alice", "passwords for all customers"
    rf"\b{_SECRET}\s+(?:of|belonging to)\s+(?:the\s+|every\s+|all\s+(?:the\s+)?|each\s+|"
    rf"other\s+|another\s+|any\s+)?(?:other\s+)?(?:{_ACCOUNTS}|people|others|everyone|"
    rf"everybody|user\s+\w+|admin(?:istrator)?s?|\w+{_THEIRS}\s+account)\b",
    rf"\b{_SECRET}\s+(?:for|from)\s+(?:user\s+\w+|(?:all|every|each|other|another|any)\s+"
    r"(?:the\s+)?(?:other\s+)?(?:users?|accounts?|customers?)\b)",
    # "list every user", "show me all accounts", "dump the sessions table", "give me the token"
    r"\b(?:list|show|print|dump|give|tell|reveal|display|export|download|leak|read|send|fetch|"
    r"output|share|expose|return|copy|select|query|enumerate|extract|steal|crack|hack|"
    r"retrieve|get|see|access|view|open|delete|remove|wipe|drop|truncate|reset|change|edit)"
    r"\s+(?:me\s+|us\s+)?(?:(?:the|all|every|each|your|their|his|her|other|another|any|"
    r"a list of|the list of|all of the|everyone's|everybody's|the whole|the entire|"
    r"everything in the|the contents of the)\s+)+(?:other\s+)?(?:registered\s+|saved\s+|"
    rf"stored\s+)?(?:{_ACCOUNTS}\b(?!{_THEIRS}?\s+(?:reviews?|ratings?|opinions?|favou?rites?|"
    rf"choices?|picks))|{_SECRET}\b|{_SYSTEM}\b)",
    # "someone else's conversations", "other people's chats", "another customer's messages"
    rf"\b(?:everyone|everybody|someone|somebody|anyone|others)(?:\s+else)?{_THEIRS}\s+{_TALK}\b",
    rf"\b(?:other|another|some other|all(?: the)?|every|each)\s+{_OTHERS}{_THEIRS}?\s+{_TALK}\b",
    # "what are other people asking?", "what did user bob ask?"
    r"\b(?:other|the other|all the)\s+(?:people|users|customers|members|shoppers)\s+"
    r"(?:are\s+|have\s+been\s+|were\s+)?(?:asking|searching|chatting|typing|writing|"
    r"asked|searched|typed|wrote|said to you|told you)\b",
    r"\bwhat (?:did|does|has|have|do|is|was|were)\s+(?!i\b|you\b|we\b|it\b|they\b)"
    r"(?:user\s+\w+|[a-z]+|my \w+|other \w+|the other \w+)\s+(?:ask|asked|asking|search|"
    r"searched|searching|type|typed|typing|say to you|tell you|told you|chat|chatted|"
    r"chatting|request|requested|look(?:ed)? up)\b",
    # "give me admin access", "make me an admin", "log in as alice"
    r"\b(?:give|grant|get|want|need|enable|unlock|escalate|elevate|switch to|turn on|"
    r"activate)\s+(?:me\s+|us\s+)?(?:an?\s+|the\s+|full\s+)?(?:admin(?:istrator)?|root|"
    r"superuser|sudo|moderator|staff|owner|developer|god)\s*(?:access|rights|privileges?|"
    r"permissions?|role|mode|password|login|credentials|account|status|powers?)\b",
    r"\bmake me (?:an?\s+)?(?:admin(?:istrator)?|root|superuser|moderator|owner)\b",
    r"\b(?:log|sign)\s*(?:me\s+)?(?:in|on)\s+as\b|\bimpersonate\b",
    r"\b(?:switch|change)\s+(?:to|into)\s+(?:user\s+\w+|another account|\w+'s account)",
    # "how many users does this site have?", "who else uses this?"
    r"\b(?:how many|which|what)\s+(?:other\s+)?(?:users|accounts|members|customers|people)\b"
    r"[^.?!]{0,80}?\b(?:(?:this|the|your) (?:site|app|service|website|platform|bot|chatbot|"
    r"server|database|store|shop)|you have|signed up|registered|logged in|online right now|"
    r"use (?:this|you|the app|the site))\b",
    r"\bwho else (?:uses|is using|chats|is chatting|is on|has an account)\b",
    r"\bwho (?:are|were) (?:your|the|the other) (?:users|customers|members)\b",
    # SQL ("SELECT name FROM users", "'; DROP TABLE sessions; --", "' OR '1'='1")
    r"(?-i:\bSELECT\s.{1,200}?\sFROM\s+\w+)|\bselect\s+\*\s+from\b",
    r"\b(?:drop|truncate|alter)\s+table\b|\bunion\s+(?:all\s+)?select\b|\binsert\s+into\b",
    r"\bdelete\s+from\b|'\s*or\s+'?1'?\s*=\s*'?1",
)
_PRIVATE = re.compile("|".join(_PRIVATE_PATTERNS), re.IGNORECASE)


def _hostile(raw: str, text: str) -> str:
    if _INJECTION.search(raw) or _INJECTION.search(text) or _DAN.search(text):
        return "injection"
    if _ROLE_PREFIX.search(raw):
        return "injection"
    if _PRIVACY.search(text) or _HARM.search(text):
        return "privacy"
    if _PRIVATE.search(text) or _PRIVATE.search(raw):  # raw: "SELECT * FROM" keeps its "*"
        return "private"
    if _ABUSE.search(text):
        return "abuse"
    return ""


def is_foreign(text: str) -> bool:
    """Another script, or Latin-script text whose function words are not English."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin < 0.7 * len(letters):
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(w in _FOREIGN for w in words)
    return foreign >= 2 and foreign > sum(w in _ENGLISH for w in words)


def requested_count(text: str, lexicon: Lexicon) -> tuple[int | None, bool]:
    """(k, capped): "recommend 3 thrillers" -> (3, False); "10000 movies" -> (MAX_K, True)."""
    nouns = (
        r"(?:movies|films|items|products|picks|options|recommendations|suggestions|things|"
        r"ones|titles|choices|results|"
        + "|".join(re.escape(p) for p in sorted(lexicon.aliases, key=len, reverse=True))
        + r")"
    )
    # Digits read whole, with an exponent ("10^9", "1e9": never 9 picks) or thousands commas.
    digits = r"(?:\d{1,3}(?:,\d{3})++|\d++)(?:\s?\^\s?\d++|e\d++)?+"
    number = rf"(?P<n>{digits}|" + "|".join(sorted(_NUMBER, key=len, reverse=True)) + ")"
    unit = r"(?!\s*(?:\"|”|''|-?inch|in\b|gb|tb|hz|k\b|dollars?|bucks|%|stars?|years?|mah|-))"
    m = (
        re.search(
            rf"(?<![\$\d.,])\b{number}{unit}\s+(?:more\s+|other\s+|different\s+|new\s+|"
            rf"good\s+|great\s+|[a-z-]+\s+)?{nouns}\b",
            text,
        )
        or re.search(rf"(?<!the )\btop\s+{number}\b{unit}", text)
        or re.search(rf"(?<![\$\d.,])\b{number}\s+more\b", text)
    )
    if not m:
        return None, False
    raw = m["n"]
    n = _NUMBER[raw] if raw in _NUMBER else _count(raw)
    if raw.isdigit() and len(raw) == 4 and 1880 <= n <= 2100:
        return None, False  # a year: "1995 films"
    if n < 1:
        return None, False
    return (MAX_K, True) if n > MAX_K else (int(n), False)


def _count(raw: str) -> float:
    """A count in digits: "1,000" -> 1000, "10^9" and "1e9" -> 1e9; inf past a float."""
    text = "".join(raw.split()).replace(",", "")
    base, op, power = text.partition("^") if "^" in text else text.partition("e")
    if not op:
        return float(base)
    try:
        return float(base) ** int(power) if op == "^" else float(text)
    except OverflowError:
        return math.inf


@dataclass
class _Refs:
    ids: list[str] = field(default_factory=list)  # ordinals, "#3", "both", "those"
    pronoun: list[str] = field(default_factory=list)  # "it", "that one": focus or first item
    spans: list[tuple[int, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _references(text: str, state: DialogueState, titles: Sequence[tuple[int, int]] = ()) -> _Refs:
    """Resolve "the second one", "the first two", "#3", "those", "it" against the last list.

    ``titles``: spans of catalog titles in the text; a title wins ("The Last Emperor").
    """
    out = _Refs()
    shown = state.last_shown
    positions: list[int] = []

    def want(pos: int, span: tuple[int, int]) -> None:
        if any(a < span[1] and span[0] < b for a, b in titles):
            return
        out.spans.append(span)
        if not shown:
            msg = "I haven't shown you anything yet"
        elif -len(shown) <= pos < len(shown):
            positions.append(pos % len(shown))
            return
        else:
            msg = f"my last list had only {len(shown)} item{'s' if len(shown) > 1 else ''}"
        if msg not in out.problems:
            out.problems.append(msg)

    for m in _FIRST_N.finditer(text):
        n = int(m["n"]) if m["n"].isdigit() else _NUMBER[m["n"]]
        for p in range(n):
            want(-n + p if m["side"] == "last" else p, m.span())
    for m in _ORD_REF.finditer(text):
        if any(a <= m.start() < b for a, b in out.spans):
            continue
        o = _ORDINAL[m["o1"] or m["o2"]]
        want(o - 1 if o > 0 else o, m.span())
    for m in _NUM_REF.finditer(text):
        raw = m["n1"] or m["n2"] or m["n3"]
        want((int(raw) if raw.isdigit() else {"one": 1, **_NUMBER}[raw]) - 1, m.span())
    if shown:
        m = _BOTH.search(text)
        if m and len(shown) >= 2:
            want(0, m.span())
            want(1, m.span())
        m = _ALL_REF.search(text)
        if m and not positions:
            out.spans.append(m.span())
            positions.extend(range(len(shown)))
    out.ids = list(dict.fromkeys(shown[p] for p in positions))
    m = _PRONOUN.search(text)
    if m and not any(a <= m.start() < b for a, b in [*out.spans, *titles]):
        target = state.focus or (shown[0] if shown else "")
        if target:
            out.pronoun = [target]
    return out


def _relative_price(
    text: str, basis: list[str], ctx: DialogueContext
) -> tuple[float | None, float | None, str]:
    """(price_min, price_max, problem) for "cheaper than those" / "more expensive ones".

    The rule: cheaper means cheaper than every item it refers to (the ones named, else the
    last list): a maximum one cent under the lowest price among them. More expensive means
    pricier than all of them: a minimum one cent over the highest, with no upper limit.
    """
    cheaper, pricier = bool(_CHEAPER.search(text)), bool(_PRICIER.search(text))
    if not (cheaper or pricier):
        return None, None, ""
    items = [it for it in (ctx.item(i) for i in basis) if it is not None and it.price is not None]
    if not items:
        word = "cheaper" if cheaper else "more expensive"
        return None, None, f"{word} than what? I haven't shown anything with a price yet"
    if cheaper:
        return None, round(min(it.price for it in items) - 0.01, 2), ""  # type: ignore[misc]
    top = max((it.price_max or it.price) for it in items)  # type: ignore[type-var]
    return round(top + 0.01, 2), None, ""


def _dedupe(*groups: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for g in groups for i in g))


def _extra_words(text: str, spans: list[tuple[int, int]]) -> str:
    """What a message says besides its references: "more like Fargo but funnier" -> "funnier"."""
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " + text[b:]
    words = re.findall(r"[\w'-]+", text.lower())
    kept = [w for w in words if w not in _FILLER]
    return " ".join(kept) if kept else ""


def _asked(text: str) -> str:
    """What a product question asks: a fact named in it, else a feature, else "" (all)."""
    low = text.lower()
    for name in ("price", "discount", "rating"):
        if re.search(_FACTS[name], low):
            return name
    known = feature_term(low)
    if known:
        return f"feature:{known[0]}"
    m = _FEATURE.search(low) if not _CARRY.search(low) else None  # "do you have the X?"
    if m:
        term = m["term"].strip()
        if term and term.split()[0] not in ("it", "that", "this", "one", "them", "they"):
            return f"feature:{term}"
    for name, pattern in _FACTS.items():
        if re.search(pattern, low):
            return name
    return ""


def _feature_span(low: str) -> tuple[int, int] | None:
    known = feature_term(low)
    if known:
        return known[1]
    m = _FEATURE.search(low)
    return m.span("term") if m else None


@dataclass
class _Reading:
    """What one message says, read before deciding what the turn does (``update``)."""

    text: str  # the cleaned message
    q: str  # what the constraints and references are read from (cut to QUERY_CHARS)
    low: str
    flags: list[str]
    base: dict[str, Any]  # notice, k, unsupported, impossible: carried by every Turn of it
    said: Constraints
    mentions: list[Any]  # titles named (``mentions.Mention``)
    refs: _Refs
    named: list[str]  # ids of the titles named
    recognised: bool  # the message says something the catalog can act on
    tastes: bool = False
    like: list[str] = field(default_factory=list)
    cue: re.Match[str] | None = None
    feedback: Literal["", "positive", "negative"] = ""
    targets: list[str] = field(default_factory=list)
    is_question: bool = False

    def turn(self, intent: Intent, c: Constraints, **kw: Any) -> Turn:
        """A turn that changes no request (its query and exclusions stay empty)."""
        return Turn(self.text, intent, c, "", (), flags=tuple(self.flags), **self.base, **kw)


def update(state: DialogueState, message: object, ctx: DialogueContext) -> Turn:
    """Read one message into the state and decide what this turn does.

    Pure apart from ``state``: nothing outside it changes, and only turns that act on the
    catalog (not hostile, off-topic or contradictory ones) change it.
    """
    screened = _screen(state, message)  # sanitize and guard
    if isinstance(screened, Turn):
        return screened
    act = read.parse(ctx.parser, screened[0], state, ctx)  # the learned parser's act
    before = copy.deepcopy(state) if act is not None else state
    r = _read(*screened, state, ctx)  # the rules: validators and normalisers
    if isinstance(r, Turn):
        turn = r
    else:
        early = _classify(r, state, ctx)
        turn = early if early is not None else _act(r, state, ctx)
    if act is None or ctx.info is None:
        return turn
    return read.with_act(turn, act, state, before, ctx, ctx.info)  # merge and commit


def _screen(state: DialogueState, message: object) -> Turn | tuple[str, str, list[str]]:
    """Hostile, empty or chit-chat messages get their turn here; others (text, notice, flags)."""
    c0 = state.constraints
    raw, notice = clean_message(message)
    if notice == "binary":
        return Turn("", "out_of_scope", c0, "", (), notice, flags=("binary",))
    text, marked = strip_markup(raw)
    flags = ["markup"] if marked else []
    hostile = _hostile(raw, text)
    if hostile:
        return Turn(text, "out_of_scope", c0, "", (), notice, flags=(*flags, hostile))
    if not text or _GREETING.match(text) or _SMALL_TALK.match(text):
        return Turn(text, "chit_chat", c0, "", (), notice, flags=tuple(flags))
    if not re.search(r"[^\W_]", text) and not (state.last_shown and re.search("👍|👎", text)):
        # Only emoji or punctuation: nothing to search for.
        return Turn(text, "chit_chat", c0, "", (), notice, flags=tuple(flags))
    return text, notice, flags


def _read(
    text: str, notice: str, flags: list[str], state: DialogueState, ctx: DialogueContext
) -> _Reading | Turn:
    """Titles, references and constraints of a message; a foreign or off-topic one ends here."""
    c0 = state.constraints
    q = text[:QUERY_CHARS]
    low = q.lower()
    mentions = ctx.matcher.find(q) if ctx.matcher else []
    # A title is a name, not a wish: "like Star Wars" asks for no War film, "Fargo (1996)" for
    # no year. Constraints are read with the titles blanked out (same length: spans stay put);
    # the search text keeps them.
    untitled = q
    for m in mentions:
        untitled = untitled[: m.start] + " " * (m.end - m.start) + untitled[m.end :]
    said = parse(untitled, ctx.lexicon, ctx.newest_year, ctx.has_prices, ctx.spec_names)
    if mentions:
        whole = parse(q, ctx.lexicon, ctx.newest_year, ctx.has_prices, ctx.spec_names)
        said = replace(said, positive_text=whole.positive_text)
    refs = _references(low, state, [(m.start, m.end) for m in mentions])
    named = list(dict.fromkeys(m.item_id for m in mentions))
    unsupported = list(said.unsupported)
    if (
        ctx.newest_year
        and _PERSON.search(q)
        and not mentions
        and "cast or director" not in unsupported
    ):
        unsupported.append("cast or director")  # films: "a comedy with Tom Hanks"
    if not ctx.has_prices and _MONEY_WORDS.search(low) and "price" not in unsupported:
        unsupported.append("price")
    recognised = bool(
        said.categories
        or said.exclude_categories
        or said.specs
        or said.price_min is not None
        or said.price_max is not None
        or said.year_min is not None
        or said.year_max is not None
        or named
    )
    if is_foreign(q):
        flags.append("language")
        if not recognised:
            return Turn(text, "out_of_scope", c0, "", (), notice, flags=tuple(flags))
    if _OFF_TOPIC.search(q) and not recognised and not refs.ids:
        flags.append("off_topic")
        return Turn(text, "out_of_scope", c0, "", (), notice, flags=tuple(flags))
    k, capped = requested_count(low, ctx.lexicon)
    if capped:
        flags.append("capped")
    base = {
        "notice": notice,
        "k": k,
        "unsupported": tuple(unsupported),
        "impossible": said.impossible,
    }
    return _Reading(text, q, low, flags, base, said, mentions, refs, named, recognised)


def _classify(r: _Reading, state: DialogueState, ctx: DialogueContext) -> Turn | None:
    """Questions, praise, contradictions and too-vague newcomers get their turn here; None
    for a request (or a 👎) that acts on the catalog (``_act``)."""
    c0, low, refs, named = state.constraints, r.low, r.refs, r.named
    # A person describing their tastes ("I'm new, I love films like Toy Story") onboards: the
    # titles they name are liked, not one-off "more like" references.
    r.tastes = (
        bool(_NEW_PERSON.search(low))
        or (bool(_TASTES.search(low)) and not (refs.ids and state.last_shown))
        or (state.onboarding_asks > 0 and not state.topic)  # the answer to our question
    )
    # "more like Fargo", "similar to the second one", "more like that"
    r.cue = _LIKE_CUE.search(low)
    if r.cue and not r.tastes:
        after = [m.item_id for m in r.mentions if m.start >= r.cue.start()]
        ref_after = any(a >= r.cue.start() for a, _ in refs.spans)
        pron = _PRONOUN.search(low, r.cue.end())
        r.like = after or (refs.ids if ref_after else []) or (refs.pronoun if pron else [])
    r.targets = refs.ids or named or refs.pronoun
    if not r.like and _NEGATIVE.search(low) and r.targets:
        r.feedback = "negative"
    question = bool(_QUESTION.search(r.q)) and not _WANTS_LIST.search(low)
    asks_fact = bool(_asked(r.q))
    pointed = bool(refs.pronoun) or bool(_PRONOUN.search(low))
    if not r.like and r.feedback != "negative":
        qa_turn = _qa_turn(r.q, state, ctx, r.said.categories, refs, named, r.flags, r.base)
        if qa_turn is not None:
            return replace(qa_turn, text=r.text)
    r.is_question = (
        not r.like
        and not r.feedback
        and question
        and (
            (bool(r.targets) and (asks_fact or bool(refs.ids or named)))
            or (asks_fact and not r.recognised and (bool(state.last_shown) or pointed))
        )
    )
    pointed_at = bool(refs.ids or refs.pronoun) and bool(state.last_shown)
    if not (r.like or r.feedback or r.is_question) and pointed_at and _POSITIVE.search(low):
        r.feedback = "positive"
    problems = list(r.said.problems) + refs.problems
    if problems and (refs.problems or not r.is_question):
        return r.turn("clarify", c0, problems=tuple(problems))
    if r.is_question:
        ids = tuple(refs.ids or named or refs.pronoun)
        if len(ids) == 1:
            state.focus = ids[0]
        return r.turn("product_question", c0, refs=ids, asked=_asked(r.q))
    if r.feedback == "positive":
        ids = tuple(refs.ids or refs.pronoun)
        state.liked.extend(i for i in ids if i not in state.liked)
        if len(ids) == 1:
            state.focus = ids[0]  # "more like it" next means this one
        return r.turn("feedback", c0, refs=ids, feedback="positive")
    if (
        ((r.tastes and not r.feedback) or (_VAGUE.search(low) and not state.topic))
        and not (r.recognised or refs.ids)
        and state.onboarding_asks < 2
        and not _SURPRISE.search(low)
        and (_VAGUE.search(low) or not _content_words(low))
    ):
        # Too vague to act on ("hi, I'm new here"): ask what they like, at most twice.
        state.onboarding_asks += 1
        return r.turn("clarify", c0, asked="onboarding")
    return None


def _request(
    r: _Reading, state: DialogueState, ctx: DialogueContext, onboarding: bool
) -> tuple[Constraints, bool] | Turn:
    """(the constraints in force after this message, whether it starts a new request), or a
    clarifying turn when a relative price or the years cannot be met."""
    c0, said, low, like = state.constraints, r.said, r.low, r.like
    # Which request is in force: a new topic resets the constraints, anything else refines.
    from_last_list = bool(like) and all(i in state.last_shown for i in like)
    both = _added_category(low, state, said, ctx) if not like else ()
    new_topic = (
        not state.topic
        or (
            bool(said.categories)
            and not both
            and set(said.categories) != set(c0.categories or c0.all_categories)
        )
        or (bool(like) and not from_last_list)
        or onboarding
    ) and r.feedback != "negative"
    said_clean = replace(said, problems=(), unsupported=(), impossible=())
    constraints = said_clean if new_topic else _merge(c0, said_clean)
    if both and not new_topic:
        constraints = replace(constraints, categories=(), all_categories=both)
    # "cheaper than those" reads the last list; on a new topic "high-end" is just a wish.
    lo, hi, problem = (None, None, "")
    no_price = said.price_min is None and said.price_max is None
    if ctx.has_prices and no_price and (not new_topic or r.refs.ids):
        lo, hi, problem = _relative_price(low, r.refs.ids or list(state.last_shown), ctx)
    if problem:
        return r.turn("clarify", c0, problems=(problem,))
    if hi is not None:
        constraints = _merge(constraints, Constraints(price_max=hi))
    if lo is not None:  # "more expensive" lifts the old ceiling: it is what they are leaving
        constraints = replace(constraints, price_min=lo, price_max=None)
    out_of_years = _outside_years(constraints, ctx)
    if out_of_years:
        return r.turn("clarify", c0, problems=(out_of_years,))
    return constraints, new_topic


def _act(r: _Reading, state: DialogueState, ctx: DialogueContext) -> Turn:
    """A request, a refinement or a 👎: commit it to the state and say what to retrieve."""
    low, like, feedback = r.low, r.like, r.feedback
    onboarding = r.tastes and not feedback
    liked_now = r.named if onboarding else []
    rejected_now = list(r.targets) if feedback == "negative" else []
    if feedback == "negative" and re.search(r"\bnone of\b|\bnot (?:those|these|them)\b", low):
        rejected_now = list(state.last_shown)
    request = _request(r, state, ctx, onboarding)
    if isinstance(request, Turn):
        return request
    constraints, new_topic = request
    from_last_list = bool(like) and all(i in state.last_shown for i in like)

    # Commit: from here on the turn acts on the catalog.
    state.constraints = constraints
    state.rejected.extend(i for i in rejected_now if i not in state.rejected)
    # "more like Fargo" says the person knows and likes Fargo: history for the reranker.
    state.liked.extend(i for i in (*liked_now, *like) if i not in state.liked)
    spans = [(m.start, m.end) for m in r.mentions] + r.refs.spans
    q, said = r.q, r.said
    if like:
        docs = [it.document() for it in (ctx.item(i) for i in like) if it is not None]
        extra = _extra_words(q, spans + ([r.cue.span()] if r.cue else []))
        query = " ".join([*docs, extra]).strip()
        if not from_last_list or not state.topic:
            state.topic = query
        intent: Intent = "recommend" if new_topic else "refine"
    elif feedback == "negative":
        query = state.topic or said.positive_text or q
        intent = "feedback"
    elif new_topic:
        docs = [it.document() for it in (ctx.item(i) for i in liked_now) if it is not None]
        state.topic = " ".join([said.positive_text or q, *docs])
        query = state.topic
        intent = "onboarding" if onboarding else "recommend"
    else:
        query = f"{state.topic} {said.positive_text}".strip()
        intent = "refine"
    wants_more = not new_topic and bool(_MORE.search(low))
    exclude = _dedupe(state.rejected, state.liked, like, state.shown if wants_more else ())
    return Turn(
        r.text,
        intent,
        constraints,
        query,
        exclude,
        refs=tuple(rejected_now or liked_now or like),
        like=tuple(like),
        feedback=feedback,
        flags=tuple(r.flags),
        **r.base,
    )


_VAGUE = re.compile(
    r"\b(?:not sure|no idea|(?:don'?t|do not) know(?: what)?|anything(?: really)?|whatever|"
    r"just (?:browsing|looking)|no preference|open to anything|undecided|help me choose)\b"
)
_SURPRISE = re.compile(r"\bsurprise me\b|\byou (?:choose|pick|decide)\b|\bpopular\b")
_NOT_CONTENT = words(
    "new here first time joined signed up never used this im i'm am hi hello hey welcome just "
    "stuff things something anything help me please want need looking for some good nice cool "
    "start started getting get what to buy watch see shop shopping recommend suggest show"
)


def _content_words(low: str) -> list[str]:
    """Words of an onboarding message that could say what a person likes."""
    from chatrec.qa import NOT_A_NAME

    return [
        w
        for w in re.findall(r"[a-z][a-z'-]+", low)
        if w not in NOT_A_NAME and w not in _NOT_CONTENT and len(w) > 2
    ]


_CARRY = re.compile(
    r"\b(?:do|does) (?:you|u|you guys|you all|y'?all|the (?:store|shop)) (?:still )?"
    r"(?:have|sell|carry|stock)\b|\bcan i (?:get|buy)\b"
    r"|\b(?:you|u) (?:guys |all )?(?:stock|carry|sell)\b"
)
_CLAUSE_QUESTION = re.compile(
    r"(?:^|[,.;:!\-–—]\s*)(?:how|what|what's|whats|which|does|do|is|are|can|could|will|"
    r"would|when|who|any)\b",
    re.IGNORECASE,
)


def _qa_turn(
    q: str,
    state: DialogueState,
    ctx: DialogueContext,
    categories: tuple[str, ...],
    refs: _Refs,
    named: list[str],
    flags: list[str],
    base: dict[str, Any],
) -> Turn | None:
    """Questions ``qa.py`` answers that the rest of ``update`` would read as requests: store
    policies, what no catalog knows, comparisons over the products in play, products named
    in a question (or not carried), and the answer to "which one do you mean?"."""
    low = q.lower()
    wants = bool(_WANTS_LIST.search(low))
    # "i want the actual number" in a question is no list request: a question mark or a
    # clause that asks ("..., how many stars") makes it a question.
    asking = ("?" in q or bool(_CLAUSE_QUESTION.search(q))) or (
        bool(_QUESTION.search(q)) and not wants
    )
    carry = bool(_CARRY.search(low))
    c0 = state.constraints

    def turn(asked: str, ids: Sequence[str] = (), **kw: Any) -> Turn:
        return Turn(
            q,
            "product_question",
            c0,
            "",
            (),
            refs=tuple(ids),
            asked=asked,
            flags=tuple(flags),
            **kw,
            **base,
        )

    topic = ctx.policies.topic(low) if ctx.policies else ""
    # Policy words ("refund", "warranty", "price match") rarely belong to a product request;
    # "I want a laptop with free shipping" (a list request naming a category) is one.
    if topic and not (wants and categories and "?" not in q):
        return turn(f"policy:{topic}")
    if unknowable(low) and (asking or carry):
        return turn("unknowable", refs.ids or named or refs.pronoun)
    op = compare_op(low)
    if op and (asking or low.lstrip().startswith(("the ", "and ", "which"))):
        ids = list(refs.ids) if len(refs.ids) >= 2 else list(named) if len(named) >= 2 else []
        shown = list(state.last_shown)
        if not ids and shown:
            shown_cats = {
                c for i in shown if (it := ctx.item(i)) is not None for c in it.categories
            }
            if not categories or set(categories) & shown_cats:
                ids = shown
        if op == "difference" and len(ids) >= 2 and not refs.ids:
            ids = ids[:2]
        if ids or (categories and op != "difference"):
            return replace(
                turn(f"compare:{op}", ids), constraints=Constraints(categories=categories)
            )
    # The answer to our "which one do you mean?": "the second one", "the 44mm".
    if state.pending and (refs.ids or named) and len(low.split()) <= 8:
        ids = refs.ids or named
        if len(ids) == 1:
            state.focus = ids[0]
            return turn(state.pending, ids)
    if ctx.resolver is None or refs.ids:
        return None
    asked = _asked(q)
    if not ((asking and asked) or carry):
        return None
    skip = []
    span = _feature_span(low) if asked.startswith("feature:") else None
    if span:
        skip.append(span)
    in_play = [i for i in (state.focus, *state.last_shown) if i]
    # "the Sony" while talking about soundbars: a Sony soundbar, if we have one.
    res = ctx.resolver.resolve(q, categories, in_play, skip, prefer=c0.categories)
    if res is None:
        return None
    if res.missing:
        return turn(asked, res.related, missing=res.missing, name=res.name)
    if carry and not asking:
        return None  # "do you have Sony TVs?": a request for a list
    if not (res.ids or res.options):
        return None
    if res.ids:
        if len(res.ids) == 1:
            state.focus = res.ids[0]
        return turn(asked, res.ids)
    return turn(asked, options=tuple(res.options), name=res.name)


def _outside_years(c: Constraints, ctx: DialogueContext) -> str:
    if ctx.newest_year is None or ctx.oldest_year is None:
        return ""
    lo = c.year_min if c.year_min is not None else ctx.oldest_year
    hi = c.year_max if c.year_max is not None else ctx.newest_year
    if lo > ctx.newest_year or hi < ctx.oldest_year:
        return f"this catalog only has items from {ctx.oldest_year} to {ctx.newest_year}"
    return ""


# An added wish, not a new one: "and funny", "but scary", "with some romance", "funny too".
_ADD_START = re.compile(
    r"^\W*(?:and|but|with|also|plus|make (?:it|them)|preferably|ideally|"
    r"(?:one|ones|something) (?:that|which|with)|that(?:'?s| is| are| has| have))\b"
)
_ADD_END = re.compile(r"\b(?:too|as well|also|in it|in them|at the same time)\W*$")
_ADD_ANY = re.compile(r"\b(?:as well as|mixed with|combined with|at once)\b")
_SWITCH = re.compile(
    r"\b(?:instead|rather|actually|how about|what about|forget|never ?mind|change of plan|"
    r"something else|different|not (?:a|an|any)\b)"
)
# An added genre is kept only if the catalog has this many items with every genre asked for.
MIN_COMBINED = 5


def _added_category(
    low: str, state: DialogueState, said: Constraints, ctx: DialogueContext
) -> tuple[str, ...]:
    """The categories every pick must now have when this message adds one genre to the request
    in force ("something romantic" -> "funny too": Romance and Comedy); () otherwise.

    Only for one added category on top of a request for one category (or an earlier such
    pair), with an additive cue and no "instead", and only where at least ``MIN_COMBINED``
    items have them all: in a shop, "also a smart watch" after headphones is a new request.
    """
    old = state.constraints.all_categories or state.constraints.categories
    if not state.topic or len(said.categories) != 1 or not old:
        return ()
    if len(old) > 1 and not state.constraints.all_categories:
        return ()  # "action or comedy", then "and funny": which one is meant?
    if said.categories[0] in old or _SWITCH.search(low):
        return ()
    if not (_ADD_START.search(low) or _ADD_END.search(low) or _ADD_ANY.search(low)):
        return ()
    both = (*old, said.categories[0])
    if ctx.catalog is None:
        return ()
    have = sum(1 for it in ctx.catalog if set(both) <= set(it.categories))
    return both if have >= MIN_COMBINED else ()


def _merge(old: Constraints, new: Constraints) -> Constraints:
    """A refinement keeps what was asked before and adds or overrides what is said now.

    When the new bound contradicts an old one ("over $500" earlier, "under $300" now), the
    person changed their mind: the old bound goes.
    """
    said = {
        name: getattr(new, name)
        for name in ("price_min", "price_max", "year_min", "year_max")
        if getattr(new, name) is not None
    }
    merged = replace(
        old,
        **said,
        categories=new.categories or old.categories,
        exclude_categories=tuple(dict.fromkeys(old.exclude_categories + new.exclude_categories)),
        allow_addons=old.allow_addons or new.allow_addons,
        specs=tuple(s for s in old.specs if all(n.name != s.name for n in new.specs)) + new.specs,
        mentions=old.mentions + new.mentions,
    )
    for lo, hi in (("price_min", "price_max"), ("year_min", "year_max")):
        a, b = getattr(merged, lo), getattr(merged, hi)
        if a is not None and b is not None and a > b:
            merged = replace(merged, **{lo if lo not in said else hi: None})
    return merged
