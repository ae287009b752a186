#!/bin/bash
# First run on the frozen fifth explanation request set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/x5code /tmp/x5run && mkdir -p /tmp/x5code /tmp/x5run
cd /work/main && git archive $rev | tar -x -C /tmp/x5code
ln -s /work/main/artifacts /tmp/x5code/artifacts
cd /tmp/x5code
one() {  # catalog
  mkdir -p /tmp/x5code/out-$1
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/x5code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task explanations \
    --turns data/eval/explain_holdout5.jsonl --out /tmp/x5code/out-$1 --json > /tmp/x5run/$1.json 2> /tmp/x5run/$1.err
  cp -r /tmp/x5code/out-$1 /tmp/x5run/ 2>/dev/null || true
  echo "$1 $(date)" >> /tmp/x5run/progress
}
one movies & one store & wait
echo done > /tmp/x5run/done
