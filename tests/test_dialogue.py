from __future__ import annotations

from chatrec.constraints import Lexicon
from chatrec.dialogue import MAX_CHARS, DialogueState, clean_message, update

LEX = Lexicon({"laptop": ("Laptops",), "tv": ("TVs",)})


def test_clean_message_bad_input() -> None:
    assert clean_message("") == ("", "")
    assert clean_message("   \n\t ") == ("", "")
    assert clean_message(None) == ("", "")
    assert clean_message(b"\x00\x01\x02\x03\x04\x05binary\x06\x07\x08") == ("", "binary")
    text, notice = clean_message("a" * (MAX_CHARS + 5000))
    assert len(text) == MAX_CHARS and notice == "long"
    assert clean_message("tv\x00 under <b>$500</b>")[0] == "tv under <b>$500</b>"


def test_refinement_keeps_topic_and_new_topic_resets() -> None:
    s = DialogueState("s")
    t1 = update(s, "show me laptops", LEX)
    assert t1.intent == "recommend" and t1.constraints.categories == ("Laptops",)
    t2 = update(s, "only under $800", LEX)
    assert t2.intent == "refine"
    assert t2.constraints.categories == ("Laptops",) and t2.constraints.price_max == 800
    assert "laptops" in t2.query
    t3 = update(s, "a tv instead", LEX)
    assert t3.intent == "recommend"
    assert t3.constraints.categories == ("TVs",) and t3.constraints.price_max is None


def test_asking_for_more_excludes_what_was_shown() -> None:
    s = DialogueState("s")
    update(s, "show me laptops", LEX)
    s.shown.extend(["a", "b"])
    assert update(s, "show me other ones", LEX).exclude == ("a", "b")
    assert update(s, "cheaper than 500", LEX).exclude == ()


def test_greetings_and_empty_are_chit_chat() -> None:
    s = DialogueState("s")
    assert update(s, "hello!", LEX).intent == "chit_chat"
    assert update(s, "", LEX).intent == "chit_chat"
    assert update(s, "\x00\x01\x02\x03\x04\x05\x06", LEX).intent == "out_of_scope"
