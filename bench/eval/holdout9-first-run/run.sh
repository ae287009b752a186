#!/bin/bash
# First run on the frozen ninth held-out set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/h9code /tmp/h9run && mkdir -p /tmp/h9code /tmp/h9run
cd /work/main && git archive $rev | tar -x -C /tmp/h9code
ln -s /work/main/artifacts /tmp/h9code/artifacts
cd /tmp/h9code
one() {  # catalog systems tag
  mkdir -p /tmp/h9code/out-$1-$3
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/h9code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task understanding --no-llm \
    --turns data/eval/understanding_holdout9.jsonl --systems $2 --out /tmp/h9code/out-$1-$3 --json \
    > /tmp/h9run/$1-$3.json 2> /tmp/h9run/$1-$3.err
  cp -r /tmp/h9code/out-$1-$3 /tmp/h9run/ 2>/dev/null || true
  echo "$1 $3 $(date)" >> /tmp/h9run/progress
}
one movies rules,bert a & one store rules,bert a & wait
one movies gpt-zero-shot,gpt-lora b & one store gpt-zero-shot,gpt-lora b & wait
echo done > /tmp/h9run/done
