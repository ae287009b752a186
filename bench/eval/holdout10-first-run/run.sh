#!/bin/bash
# First run on the frozen tenth held-out set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/h10code /tmp/h10run && mkdir -p /tmp/h10code /tmp/h10run
cd /work/main && git archive $rev | tar -x -C /tmp/h10code
ln -s /work/main/artifacts /tmp/h10code/artifacts
cd /tmp/h10code
one() {  # catalog systems tag
  mkdir -p /tmp/h10code/out-$1-$3
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/h10code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task understanding --no-llm \
    --turns data/eval/understanding_holdout10.jsonl --systems $2 --out /tmp/h10code/out-$1-$3 --json \
    > /tmp/h10run/$1-$3.json 2> /tmp/h10run/$1-$3.err
  cp -r /tmp/h10code/out-$1-$3 /tmp/h10run/ 2>/dev/null || true
  echo "$1 $3 $(date)" >> /tmp/h10run/progress
}
one movies rules,bert a & one store rules,bert a & wait
one movies gpt-zero-shot,gpt-lora b & one store gpt-zero-shot,gpt-lora b & wait
echo done > /tmp/h10run/done
