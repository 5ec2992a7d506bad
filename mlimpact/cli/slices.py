"""``python -m mlimpact slices``: the weak slices, best first."""

from __future__ import annotations

import sys

from mlimpact.cli.common import EXIT_OK, json_text, load_dataset


def run(args) -> int:
    """JSON ``{"slices": [...]}`` best first (DESIGN.md), or one text line per slice."""
    from mlimpact.slices import default_error_kind, search_weak_slices, slice_sentence  # on use: start-up

    dataset = load_dataset(args)
    kind = args.error or default_error_kind(dataset)
    result = search_weak_slices(dataset, kind=kind, threshold=args.threshold, max_level=args.max_level,
                                min_support=args.min_support, k=args.top, scoring=args.scoring, alpha=args.alpha)
    if args.format == "json":
        doc = result.to_json()
        doc["error"] = kind
        sys.stdout.write(json_text(doc))
    else:
        print(f"{result.n_evaluated:,} slices evaluated; overall {kind} {result.overall_error_rate:.4g}")
        for row in result.slices.to_dict("records"):
            print(slice_sentence(row, overall=result.overall_error_rate, kind=kind))
    return EXIT_OK
