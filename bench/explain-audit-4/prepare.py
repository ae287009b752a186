"""Fourth blind audit (issue 18): 100 texts of the FIRST run on the third frozen request set
(``bench/eval/explanations-holdout3-first-run/``), and 100 pairs: for the same pick, the text of
the landed main before this work (4737b47, same command and requests, ``before/``) and the
new one, in random order. Run from the repository root:

    python bench/explain-audit-4/prepare.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from explain_audit_sheets import prepare  # noqa: E402

print(prepare(HERE, HERE.parent / "eval" / "explanations-holdout3-first-run", 4141))
