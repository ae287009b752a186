#!/bin/bash
# A first run on a frozen explanation request set: bench/explain_first_run.sh SET REV DST runs
# `chatrec eval --task explanations --turns data/eval/explain_holdout$SET.jsonl` from a frozen
# `git archive` copy of the code at REV into DST, both catalogs side by side on one torch
# thread each (the sixth and seventh sets' first runs, and the landed main beside them).
set -e
set_=$1; rev=$2; dst=$3; code=/tmp/x${set_}code-$rev
rm -rf $code $dst && mkdir -p $code $dst
cd /work/main && git archive $rev | tar -x -C $code
ln -s /work/main/artifacts $code/artifacts
cd $code
one() {  # catalog
  mkdir -p $code/out-$1
  OMP_NUM_THREADS=1 PYTHONPATH=$code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task explanations \
    --turns /work/main/data/eval/explain_holdout$set_.jsonl --out $code/out-$1 --json > $dst/$1.json 2> $dst/$1.err
  cp $code/out-$1/explanations-$1.json $dst/ 2>/dev/null || true
  echo "$1 $(date)" >> $dst/progress
}
one movies & one store & wait
echo done > $dst/done
