"""Ninth blind audit (issue 18): 100 texts of the FIRST run on the eighth frozen request set
(``bench/eval/explanations-holdout8-first-run/``), shown with the request, and two pair sheets
for the same picks: against the landed main before this session (18bd9e3, ``before/``:
``pairs.jsonl``, ``key.json``) and against the texts of the day issue 18 was filed (4db8639,
``before_today/``, made by ``bench/explain_today.py``: ``pairs_today.jsonl``,
``key_today.json``). Run from the repository root:

    python bench/explain-audit-9/prepare.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from explain_audit_sheets import prepare  # noqa: E402

FIRST = HERE.parent / "eval" / "explanations-holdout8-first-run"
print(prepare(HERE, FIRST, 9191, request=True))
print(prepare(HERE, FIRST, 9191, before="before_today", sheet="_today", request=True))
