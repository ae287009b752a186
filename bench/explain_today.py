"""The texts a chatrec commit gives for a frozen request set, asked through its chat the way
`chatrec eval --task explanations` asks (liked titles into the session first, then the
message; the top three picks' final texts), for commits older than that command. Run from a
`git archive` copy of the commit:

    PYTHONPATH=. python /work/main/bench/explain_today.py CATALOG REQUESTS.jsonl OUT.json

(the seventh and eighth audits' ``before_today/``, from 4db8639)
"""

import json
import sys
import time
from pathlib import Path

from chatrec import ChatRecommender

catalog, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
rec = ChatRecommender.from_pretrained(catalog)
by_title = {it.title: it.id for it in rec.catalog}
rows = [json.loads(x) for x in Path(path).read_text().splitlines()]
texts = []
t0 = time.time()
for r in rows:
    if r["catalog"] != catalog:
        continue
    sid = f"eval-{r['id']}"
    state = rec.session(sid)
    state.liked.extend(by_title[t] for t in r["liked"] if t in by_title)
    reply = rec.chat(r["message"], sid)
    for pick in reply.items[:3]:
        item = rec.catalog.get(pick.item_id)
        texts.append(
            {
                "id": r["id"],
                "item_id": item.id,
                "title": item.title,
                "text": pick.explanation,
                "source": getattr(pick, "source", None),
            }
        )
result = {"catalog": catalog, "seconds": round(time.time() - t0, 1), "texts": texts}
Path(out).write_text(json.dumps(result, indent=1))
print(catalog, len(texts), "texts")
