"""Seventh blind audit (issue 18): 100 texts of the FIRST run on the sixth frozen request set
(``bench/eval/explanations-holdout6-first-run/``), shown with the request, and two pair sheets
for the same picks: against the landed main before this session (db11df0, ``before/``:
``pairs.jsonl``, ``key.json``) and against the texts of the day issue 18 was filed (4db8639,
``before_today/``, made by ``bench/explain_today.py``: ``pairs_today.jsonl``,
``key_today.json``). Run from
the repository root:

    python bench/explain-audit-7/prepare.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from explain_audit_sheets import prepare  # noqa: E402

FIRST = HERE.parent / "eval" / "explanations-holdout6-first-run"
print(prepare(HERE, FIRST, 7171, request=True))
print(prepare(HERE, FIRST, 7171, before="before_today", sheet="_today", request=True))
