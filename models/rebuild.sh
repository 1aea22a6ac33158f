#!/bin/sh
# Rebuild the training corpus from the shared datasets and the shipped model from it.
#   sh models/rebuild.sh [DATASETS]     (default ../shared/datasets; needs pip install '.[corpus]')
# The corpus goes to the git-ignored .cache/corpus; the model to models/default.joblib with its
# sha256 beside it. Then regenerate the numbers: python benchmarks/quality.py
set -eu
datasets=${1:-../shared/datasets}
cd "$(dirname "$0")/.."
declutter corpus "$datasets" -o .cache/corpus --jobs 2
declutter train .cache/corpus/train training_data -o models/default.joblib
