# How the audit sheets were made (run once on 2026-12-01 from /tmp copies of the first-run
# outputs: bench/eval/explanations-first-run/ and today_texts.json). Kept as the record.
import json, random, os, sys
new = []
for c in ("movies", "store"):
    d = json.load(open(f"/tmp/xeval/explanations-{c}.json"))
    for t in d["texts"]:
        new.append({**t, "catalog": c})
old = {(t["id"], t["item_id"]): t for t in json.load(open("/tmp/oldcode/today_texts.json"))}
rng = random.Random(1818)
os.makedirs("/tmp/xaudit", exist_ok=True)
# Sheet 1: 100 texts, 50 per catalog
claims = []
for c in ("movies", "store"):
    pool = [t for t in new if t["catalog"] == c]
    claims += rng.sample(pool, 50)
rng.shuffle(claims)
with open("/tmp/xaudit/claims.jsonl", "w") as f:
    for n, t in enumerate(claims, 1):
        f.write(json.dumps({"n": n, "kind": "film" if t["catalog"] == "movies" else "product", "title": t["title"], "facts": t["facts"], "evidence": t["evidence"], "text": t["text"]}, ensure_ascii=False) + "\n")
# Sheet 2: 100 pairs on the same pick
both = [t for t in new if (t["id"], t["item_id"]) in old and old[(t["id"], t["item_id"])]["text"].strip() != t["text"].strip()]
print("pairs available", len(both), "of", len(new), file=sys.stderr)
pairs = rng.sample(both, min(100, len(both)))
key = []
with open("/tmp/xaudit/pairs.jsonl", "w") as f:
    for n, t in enumerate(pairs, 1):
        o = old[(t["id"], t["item_id"])]["text"]
        new_first = rng.random() < 0.5
        a, b = (t["text"], o) if new_first else (o, t["text"])
        key.append({"n": n, "id": t["id"], "item_id": t["item_id"], "new": "A" if new_first else "B"})
        f.write(json.dumps({"n": n, "kind": "film" if t["catalog"] == "movies" else "product", "request": t["request"], "title": t["title"], "facts": t["facts"], "evidence": t["evidence"], "A": a, "B": b}, ensure_ascii=False) + "\n")
json.dump({"claims": [{"n": n, "id": t["id"], "item_id": t["item_id"], "source": t["source"]} for n, t in enumerate(claims, 1)], "pairs": key}, open("/tmp/xaudit_key.json", "w"), indent=1)
print(len(claims), len(pairs))
