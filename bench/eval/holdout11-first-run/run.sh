#!/bin/bash
# First run on the frozen eleventh held-out set, from a frozen copy of the code at $1.
set -e
rev=$1
rm -rf /tmp/h11code /tmp/h11run && mkdir -p /tmp/h11code /tmp/h11run
cd /work/main && git archive $rev | tar -x -C /tmp/h11code
ln -s /work/main/artifacts /tmp/h11code/artifacts
cd /tmp/h11code
one() {  # catalog systems tag
  mkdir -p /tmp/h11code/out-$1-$3
  OMP_NUM_THREADS=1 PYTHONPATH=/tmp/h11code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task understanding --no-llm \
    --turns data/eval/understanding_holdout11.jsonl --systems $2 --out /tmp/h11code/out-$1-$3 --json \
    > /tmp/h11run/$1-$3.json 2> /tmp/h11run/$1-$3.err
  cp -r /tmp/h11code/out-$1-$3 /tmp/h11run/ 2>/dev/null || true
  echo "$1 $3 $(date)" >> /tmp/h11run/progress
}
one movies rules,bert a & one store rules,bert a & wait
one movies gpt-zero-shot,gpt-lora b & one store gpt-zero-shot,gpt-lora b & wait
echo done > /tmp/h11run/done
