"""``python -m mlimpact impact``: net value, the best threshold and the baselines."""

from __future__ import annotations

import sys

from mlimpact.cli.common import EXIT_OK, json_text, load_dataset


def run(args) -> int:
    """The JSON of DESIGN.md, or the executive summary and the assumptions as text.

    Value lost per segment is computed for the first segment column (``--segment``, or inferred).
    """
    from mlimpact.impact import CostModel, analyze_impact, require_binary  # on use: start-up

    costs = CostModel.parse(value_tp=args.value_tp, value_tn=args.value_tn, cost_fp=args.cost_fp,
                            cost_fn=args.cost_fn, cost_review=args.cost_review)
    for note in costs.sign_notes():
        print(f"note: {note}", file=sys.stderr)
    dataset = load_dataset(args)
    require_binary(dataset)
    segment = next((c for c in dataset.roles.segments if c in dataset.frame.columns), None)
    report = analyze_impact(dataset, costs, threshold=args.threshold, segment=segment, seed=args.seed,
                           rule=args.rule, scale=args.scale, lanes=args.lanes, time_budget_s=None)
    if args.format == "json":
        sys.stdout.write(json_text(report.to_json()))
    else:
        print("\n".join(report.summary))
        print()
        print("\n".join(f"- {a}" for a in report.assumptions()))
    return EXIT_OK
