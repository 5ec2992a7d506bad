"""``python -m mlimpact impact``: net value, the best threshold and the baselines."""

from __future__ import annotations

import sys

from mlimpact.cli.common import (
    EXIT_OK,
    chosen_engine,
    engine_dataset_or_none,
    given_slices,
    json_text,
    load_dataset,
)
from mlimpact.errors import InputError


def run(args) -> int:
    """The JSON of DESIGN.md, or the executive summary and the assumptions as text.

    Value lost per segment is computed for the first segment column (``--segment``, or inferred).
    """
    from mlimpact.impact import CostModel, analyze_impact, require_binary  # on use: start-up

    costs = CostModel.parse(value_tp=args.value_tp, value_tn=args.value_tn, cost_fp=args.cost_fp,
                            cost_fn=args.cost_fn, cost_review=args.cost_review)
    for note in costs.sign_notes():
        print(f"note: {note}", file=sys.stderr)
    engine = chosen_engine(args)
    if engine != "memory":
        done = _on_engine(args, engine, costs)
        if done is not None:
            _write(args, *done)
            return EXIT_OK
        args.engine = "duckdb"  # read into memory through DuckDB, within the budget
    dataset = load_dataset(args)
    require_binary(dataset)
    segment = next((c for c in dataset.roles.segments if c in dataset.frame.columns), None)
    report = analyze_impact(dataset, costs, threshold=args.threshold, segment=segment, seed=args.seed,
                           rule=args.rule, scale=args.scale, lanes=args.lanes, time_budget_s=None)
    within = []
    for s in given_slices(args, dataset):  # value within each slice: the same analysis on its rows
        from mlimpact.slices import slice_rows  # on use: start-up

        rows = slice_rows(dataset, s.expression)
        if rows.n == 0:
            raise InputError(f"slice {s.name!r} has no rows in {dataset.source}; check its values")
        within.append((s, rows.n, analyze_impact(rows, costs, threshold=args.threshold, segment=segment,
                                                 seed=args.seed, rule=args.rule, scale=args.scale, lanes=args.lanes,
                                                 time_budget_s=None)))
    _write(args, report, within)
    return EXIT_OK


def _write(args, report, within) -> None:
    if args.format == "json":
        doc = report.to_json()
        if within:
            doc["slices"] = [{"name": s.name, "expression": s.expression, "n": n, "impact": a.to_json()}
                             for s, n, a in within]
        sys.stdout.write(json_text(doc))
    else:
        print("\n".join(report.summary))
        print()
        print("\n".join(f"- {a}" for a in report.assumptions()))
        for s, n, a in within:
            print(f"\nWithin the slice {s.name} ({n:,} rows):")
            print("\n".join(a.summary))


def _on_engine(args, engine: str, costs):
    """The analysis counted where the data lives, and within each named slice (its rows narrowed in SQL); None when
    only the memory path can make it: DuckDB then reads the source into memory."""
    from mlimpact.impact.engine_impact import analyze_impact_engine  # noqa: I001 - on use: the engine path only
    from mlimpact.slices.engine_named import engine_slice_rows  # on use: as above

    eds = engine_dataset_or_none(args, engine)
    if eds is None:
        return None
    try:
        segment = next((c for c in eds.roles.segments if c in eds.column_types), None)

        def analysis(rows):
            return analyze_impact_engine(rows, costs, threshold=args.threshold, segment=segment, seed=args.seed,
                                         scale=args.scale, lanes=args.lanes, time_budget_s=None, rule=args.rule,
                                         progress=lambda message: print(f"{engine}: {message}", file=sys.stderr))

        report, within = analysis(eds), []
        for s in given_slices(args, eds=eds):  # value within each slice: the same analysis on its rows
            rows = engine_slice_rows(eds, s.expression)
            if rows.n == 0:
                raise InputError(f"slice {s.name!r} has no rows in {eds.name}; check its values")
            within.append((s, rows.n, analysis(rows)))
        return report, within
    finally:
        eds.close()
