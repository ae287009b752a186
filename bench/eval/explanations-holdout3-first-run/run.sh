#!/bin/bash
# First run on the frozen third explanation request set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/x3code /tmp/x3run && mkdir -p /tmp/x3code /tmp/x3run
cd /work/main && git archive $rev | tar -x -C /tmp/x3code
ln -s /work/main/artifacts /tmp/x3code/artifacts
cd /tmp/x3code
one() {  # catalog
  mkdir -p /tmp/x3code/out-$1
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/x3code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task explanations \
    --turns data/eval/explain_holdout3.jsonl --out /tmp/x3code/out-$1 --json > /tmp/x3run/$1.json 2> /tmp/x3run/$1.err
  cp -r /tmp/x3code/out-$1 /tmp/x3run/ 2>/dev/null || true
  echo "$1 $(date)" >> /tmp/x3run/progress
}
one movies & one store & wait
echo done > /tmp/x3run/done
