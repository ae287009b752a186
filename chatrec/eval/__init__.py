"""Offline tools: evaluation, benchmarks and audits. The online path never imports this package.

Everything here measures the recommender from the outside; nothing that answers a chat
message (``chatrec.recommender`` and what it imports) imports ``chatrec.eval``, so a served
app never loads it. Modules:

- ``split``: the fixed MovieLens-100k leave-one-out split every offline figure uses.
- ``metrics``: ranking metrics (ranx) and beyond-accuracy metrics (ILD, coverage, novelty).
- ``movies``: the backbone comparison on MovieLens (``chatrec eval --catalog movies``).
- ``store``: product Q&A, onboarding and feedback on the store (``chatrec eval --catalog store``).
- ``convtest``: the hand-written conversational test set and its constraint precision.
- ``audit``: the grounding audit (``chatrec audit``).
- ``bench``, ``bench_turn``: latency benchmarks (``chatrec bench retrieval`` / ``turn``).

``chatrec.train`` may import ``split`` and ``metrics`` from here; the other modules here may
import ``chatrec.train`` (the evaluation loads the trained adapters), never the reverse.
"""
