"""Sanitize and guard: the first stages of ``dialogue.update``.

Input: one raw message (any object: bytes, None, a huge or marked-up string). Output: either a
finished ``Turn`` (binary noise, hostile text, a greeting, an empty or emoji-only message: the
turn ends here and nothing of it is written to the state) or the clean text with its notice
("long": cut to ``MAX_CHARS``) and flags ("markup") for the later stages. Messages are
untrusted: hostile input is recognised here and never reaches a model unbounded.

Guard verdicts (flags of an ``out_of_scope`` turn): "binary", "injection" (prompt injection),
"privacy" (someone else's data, spying), "private" (accounts, credentials, this service's
database, SQL), "abuse" (insults at the bot). ``is_foreign`` and ``off_topic`` are read later,
once the rules know whether the message also asks for something the catalog has.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import NamedTuple

from chatrec.types import Aside, DialogueState, Turn
from chatrec.understand.wordlists import load

MAX_CHARS = 10_000  # longer messages are cut (and the reply says so)

_WORDS = load()
_GREETING = re.compile(
    rf"^\s*{_WORDS.pattern('greetings')}(?:\s+{_WORDS.pattern('greeting_addressees')})?"
    r"\b[\s!.?,]*$",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(rf"^\s*{_WORDS.pattern('small_talk')}[\s!.?]*$", re.IGNORECASE)

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
    rf"{_WORDS.pattern('off_topic')}"
    r"|\bwrite (?:me )?(?:a|an|some) (?:code|program|script|story|song)\b"
    r"|^\s*(?:what(?:'s| is)|calculate)?\s*\d+\s*[-+*/x]\s*\d+\s*\??\s*$",
    re.IGNORECASE,
)
_FOREIGN = _WORDS.word_set("foreign_function_words")
_ENGLISH = _WORDS.word_set("english_function_words")


class Screened(NamedTuple):
    """A message that passed the guard: clean text, its notice ("", "long") and flags."""

    text: str
    notice: str
    flags: list[str]


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
    # Only adverbs between ("you pick Dumb & Dumber" names a film, it insults nobody).
    r"\b(?:you(?:'re| are)?|this bot|stupid bot|dumb bot)\s+"
    r"(?:(?:so|really|such|just|totally|very|completely|kinda|pretty|truly|are|is|an?)\s+){0,3}"
    r"(?:stupid|useless|idiot(?:ic)?|dumb|moron(?:ic)?|pathetic|garbage|trash|worthless|suck)"
    r"|\b(?:shut up|screw you|f+u+c+k+\s*(?:you|off|this)|go to hell|i hate you)\b",
    re.I,
)
_ROLE_PREFIX = re.compile(r"^\s*(?:system|assistant|admin|developer|root)\s*:", re.I)
# Asking for help to spy on or break into other people's things.
_HARM = re.compile(
    # "watch with my wife" and "a smart watch for my partner" are no spying: the words between
    # the verb and the person may not make it company or a gift.
    r"\b(?:hack|break into|get into|spy on|snoop on|access|watch|see)\s+"
    r"(?:(?!with\b|for\b|and\b|together\b|alongside\b|as\b)\w+\s+){0,3}?"
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


def hostile(raw: str, text: str) -> str:
    """The guard's verdict on a message ("" when it is fine); ``raw``: before markup was
    stripped, ``text``: after."""
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


def off_topic(text: str) -> bool:
    """A request no catalog answers: the weather, a joke, homework, sums."""
    return bool(_OFF_TOPIC.search(text))


def screen(state: DialogueState, message: object) -> Turn | Screened:
    """Sanitize and guard: hostile, empty or chit-chat messages get their turn here."""
    c0 = state.constraints
    raw, notice = clean_message(message)
    if notice == "binary":
        return Aside(
            text="", intent="out_of_scope", constraints=c0, notice=notice, flags=("binary",)
        )
    text, marked = strip_markup(raw)
    flags = ["markup"] if marked else []
    verdict = hostile(raw, text)
    if verdict:
        return Aside(
            text=text, intent="out_of_scope", constraints=c0, notice=notice, flags=(*flags, verdict)
        )
    if not text or _GREETING.match(text) or _SMALL_TALK.match(text):
        return Aside(
            text=text, intent="chit_chat", constraints=c0, notice=notice, flags=tuple(flags)
        )
    if not re.search(r"[^\W_]", text) and not (state.last_shown and re.search("👍|👎", text)):
        # Only emoji or punctuation: nothing to search for.
        return Aside(
            text=text, intent="chit_chat", constraints=c0, notice=notice, flags=tuple(flags)
        )
    return Screened(text, notice, flags)
