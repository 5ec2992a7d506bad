"""``python -m mlimpact slices``: the weak slices, best first."""

from __future__ import annotations

import sys

from mlimpact.cli.common import EXIT_OK, given_slices, json_text, load_dataset


def run(args) -> int:
    """JSON ``{"slices": [...]}`` best first (DESIGN.md), or one text line per slice."""
    from mlimpact.slices import (  # on use: start-up
        default_error_kind,
        named_slice_line,
        search_weak_slices,
        slice_sentence,
        slice_summary,
    )

    dataset = load_dataset(args)
    kind = args.error or default_error_kind(dataset)
    result = search_weak_slices(dataset, kind=kind, threshold=args.threshold, max_level=args.max_level,
                                min_support=args.min_support, k=args.top, scoring=args.scoring, alpha=args.alpha)
    named = given_slices(args, dataset)
    compared = slice_summary(dataset, named, threshold=args.threshold) if named else None
    if args.format == "json":
        doc = result.to_json()
        doc["error"] = kind
        if compared is not None:
            doc["named_slices"] = compared
        sys.stdout.write(json_text(doc))
    else:
        print(f"{result.n_evaluated:,} slices evaluated; overall {kind} {result.overall_error_rate:.4g}")
        for row in result.slices.to_dict("records"):
            print(slice_sentence(row, overall=result.overall_error_rate, kind=kind))
        for s in compared or []:  # the slices you named, against the rest
            print(named_slice_line(s))
    return EXIT_OK
