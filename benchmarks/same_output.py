"""Check that a change to the featurizer leaves every output as it was.

    python benchmarks/same_output.py --record ref.npz PAGES.jsonl.gz ...   # before the change
    python benchmarks/same_output.py --compare ref.npz PAGES.jsonl.gz ...  # after it

Pages are JSON Lines records with a ``"text"`` field (gzip or plain), e.g. the quality
benchmark's cached dumps in ``.cache/bench``. For each batch of pages it keeps a digest of the
featurizer's output (dense columns, lexical rows and buckets, line rows) and, in full, the
shipped model's content probability and decision for every line. ``--compare`` prints the
batches whose digest differs, the largest probability difference and the lines whose decision
changed; it exits 1 unless digests, decisions and probabilities (within ``--tol``) all agree.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from declutter.cleaner import Cleaner
from declutter.features import Features, featurize

BATCH = 64  # pages per featurize call: several chunks per batch, as in the batch command


def read_texts(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]


def digest(features: Features) -> str:
    h = hashlib.sha256()
    for a in (
        features.dense,
        *features.lex_rows,
        *features.lex_buckets,
        features.line_rows,
        features.line_blank,
        features.page_rows,
        features.row_words,
    ):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def outputs(paths: list[Path]) -> dict[str, np.ndarray]:
    cleaner = Cleaner()
    digests: list[str] = []
    proba: list[np.ndarray] = []
    keep: list[np.ndarray] = []
    for path in paths:
        texts = list(read_texts(path))
        for i in range(0, len(texts), BATCH):
            batch = texts[i : i + BATCH]
            digests.append(digest(featurize(batch)))
            for result in cleaner.process(batch):
                proba.append(result.proba)
                keep.append(result.keep)
    return {
        "digests": np.array(digests),
        "proba": np.concatenate(proba),
        "keep": np.concatenate(keep),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, help="write the outputs to this .npz")
    mode.add_argument("--compare", type=Path, help="compare the outputs with this .npz")
    parser.add_argument("--tol", type=float, default=1e-6, help="largest allowed |Δp|")
    parser.add_argument("pages", type=Path, nargs="+")
    args = parser.parse_args(argv)
    out = outputs(args.pages)
    if args.record:
        np.savez_compressed(
            args.record, digests=out["digests"], proba=out["proba"], keep=out["keep"]
        )
        print(f"recorded {len(out['digests'])} batches, {len(out['proba'])} lines")
        return 0
    ref = np.load(args.compare)
    if len(ref["proba"]) != len(out["proba"]):
        print(f"line counts differ: {len(ref['proba'])} then, {len(out['proba'])} now")
        return 1
    bad = np.flatnonzero(ref["digests"] != out["digests"])
    both = ~np.isnan(ref["proba"]) & ~np.isnan(out["proba"])
    same_nan = np.array_equal(np.isnan(ref["proba"]), np.isnan(out["proba"]))
    dp = float(np.abs(ref["proba"][both] - out["proba"][both]).max(initial=0.0))
    flipped = int((ref["keep"] != out["keep"]).sum())
    print(
        f"{len(out['digests'])} batches, {len(out['proba'])} lines: "
        f"{len(bad)} batches with other features {bad[:10].tolist()}, "
        f"max |Δp| {dp:.3g}, scored lines {'same' if same_nan else 'DIFFER'}, "
        f"{flipped} lines with another decision"
    )
    return 0 if len(bad) == 0 and dp <= args.tol and same_nan and flipped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
