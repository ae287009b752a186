#!/bin/bash
# First run on the frozen seventh explanation request set, from a frozen copy of the code at $1,
# into $2 (both catalogs side by side, one torch thread each).
set -e
rev=$1; dst=$2; code=/tmp/x7code-$rev
rm -rf $code $dst && mkdir -p $code $dst
cd /work/main && git archive $rev | tar -x -C $code
ln -s /work/main/artifacts $code/artifacts
cd $code
one() {  # catalog
  mkdir -p $code/out-$1
  OMP_NUM_THREADS=1 PYTHONPATH=$code /work/main/.venv/bin/python -m chatrec.cli eval --catalog $1 --task explanations \
    --turns /work/main/data/eval/explain_holdout7.jsonl --out $code/out-$1 --json > $dst/$1.json 2> $dst/$1.err
  cp $code/out-$1/explanations-$1.json $dst/ 2>/dev/null || true
  echo "$1 $(date)" >> $dst/progress
}
one movies & one store & wait
echo done > $dst/done
