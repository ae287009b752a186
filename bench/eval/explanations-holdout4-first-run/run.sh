#!/bin/bash
# First run on the frozen fourth explanation request set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/x4code /tmp/x4run && mkdir -p /tmp/x4code /tmp/x4run
cd /work/main && git archive $rev | tar -x -C /tmp/x4code
ln -s /work/main/artifacts /tmp/x4code/artifacts
cd /tmp/x4code
one() {  # catalog
  mkdir -p /tmp/x4code/out-$1
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/x4code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task explanations \
    --turns data/eval/explain_holdout4.jsonl --out /tmp/x4code/out-$1 --json > /tmp/x4run/$1.json 2> /tmp/x4run/$1.err
  cp -r /tmp/x4code/out-$1 /tmp/x4run/ 2>/dev/null || true
  echo "$1 $(date)" >> /tmp/x4run/progress
}
one movies & one store & wait
echo done > /tmp/x4run/done
