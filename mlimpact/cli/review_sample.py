"""``python -m mlimpact review-sample``: this period's review queue as a formula-safe CSV."""

from __future__ import annotations

import sys
from pathlib import Path

from mlimpact.cli.common import EXIT_OK, load_dataset


def run(args) -> int:
    """Write the queue (confident mistakes, then a stratified random sample) with empty verdict and note columns."""
    from mlimpact.io.export import to_safe_csv  # noqa: I001 - on use: start-up
    from mlimpact.review import QUEUE_HELP, review_queue  # on use: start-up

    dataset = load_dataset(args)
    queue = review_queue(dataset, n=args.n, confident=args.confident, stratify=args.stratify, seed=args.seed,
                         threshold=args.threshold)
    header = [f"file: {dataset.source}", f"rows: {dataset.n:,} used", f"seed: {args.seed}",
              QUEUE_HELP]
    Path(args.out).write_bytes(to_safe_csv(queue, header_lines=header))
    why = queue["why"].value_counts()
    print(f"{args.out}: {len(queue)} rows ({why.get('confident mistake', 0)} confident mistakes, "
          f"{why.get('random sample', 0)} random sample)", file=sys.stderr)
    return EXIT_OK
