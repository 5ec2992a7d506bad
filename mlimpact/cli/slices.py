"""``python -m mlimpact slices``: the weak slices, best first (in memory, or where the data lives)."""

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


def run(args) -> int:
    """JSON ``{"slices": [...]}`` best first (DESIGN.md), or one text line per slice."""
    from mlimpact.slices import (  # on use: start-up
        default_error_kind,
        named_slice_line,
        search_weak_slices,
        slice_summary,
    )

    engine = chosen_engine(args)
    if engine != "memory":
        done = _run_engine(args, engine)
        if done is not None:
            return done
        args.engine = "duckdb"  # read into memory through DuckDB, within the budget
    dataset = load_dataset(args)
    kind = args.error or default_error_kind(dataset)
    result = search_weak_slices(dataset, kind=kind, threshold=args.threshold, max_level=args.max_level,
                                min_support=args.min_support, k=args.top, scoring=args.scoring, alpha=args.alpha)
    named = given_slices(args, dataset)
    compared = slice_summary(dataset, named, threshold=args.threshold) if named else None
    _write(args, result, kind, compared)
    if args.format != "json":
        for s in compared or []:  # the slices you named, against the rest
            print(named_slice_line(s))
    return EXIT_OK


def _write(args, result, kind: str, compared) -> None:
    from mlimpact.slices import slice_sentence  # on use: start-up

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


def _run_engine(args, engine: str) -> int | None:
    """The weak slices (and the slices named with --slice/--slices against the rest) counted where the data lives;
    None when only the memory path can find them (a binary task without a score): DuckDB then reads the source
    into memory."""
    from mlimpact.slices import default_error_kind  # noqa: I001 - on use: start-up
    from mlimpact.slices.engine_weak import search_weak_slices_engine  # on use: the engine path only

    from mlimpact.slices.engine_named import engine_slice_summary  # on use: as above

    eds = engine_dataset_or_none(args, engine)
    if eds is None:
        return None
    try:
        said = set()

        def progress(fraction: float, message: str) -> None:  # one line per step, not per 1%
            step = message.split(":")[0]
            if step not in said:
                said.add(step)
                print(f"{engine}: {message}", file=sys.stderr)

        kind = args.error or default_error_kind(eds)
        result = search_weak_slices_engine(eds, kind=kind, max_level=args.max_level, min_support=args.min_support,
                                           k=args.top, scoring=args.scoring, alpha=args.alpha, progress=progress)
        named = given_slices(args, eds=eds)  # checked against the source's columns as they are written as SQL
        compared = engine_slice_summary(eds, named, threshold=args.threshold) if named else None
    finally:
        eds.close()
    for note in result.settings.get("left_out", []):
        print(f"note: {note}", file=sys.stderr)
    _write(args, result, kind, compared)
    if args.format != "json":
        from mlimpact.slices import named_slice_line  # noqa: I001 - on use: start-up

        for s in compared or []:  # the slices you named, against the rest
            print(named_slice_line(s))
    return EXIT_OK
