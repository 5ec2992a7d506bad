"""``python -m mlimpact summarize``: the summary object as JSON, or the report as Markdown/HTML/PDF."""

from __future__ import annotations

import sys

from mlimpact.cli.common import (
    EXIT_OK,
    chosen_engine,
    engine_dataset_or_none,
    given_slices,
    json_text,
    load_dataset,
    write,
)


def run(args) -> int:
    """Print (or ``--out``) the summary JSON of DESIGN.md, or the whole report (a PDF only to ``--out``)."""
    if args.format == "pdf" and not args.out:
        from mlimpact.errors import InputError  # on use: start-up

        raise InputError("--format pdf writes a binary file: give the file to write, e.g. --out report.pdf")
    engine = chosen_engine(args)
    if engine != "memory" and args.verdicts:
        from mlimpact.errors import InputError  # on use: start-up

        raise InputError("--verdicts needs the rows in memory (a queue's rows are positions in the file): use "
                         "--engine memory")
    if engine != "memory":
        done = _run_engine(args, engine)
        if done is not None:
            return done
        print(f"note: computed in memory ({_WHY})", file=sys.stderr)
        args.engine = "duckdb"  # the budget check of in_memory_only applies
    dataset = load_dataset(args)
    if args.format == "json":
        from mlimpact.report.summarize import summarize  # on use: keeps the other commands' start-up light

        summary = summarize(dataset, threshold=args.threshold, seed=args.seed, max_values=args.max_values)
        if slices := given_slices(args, dataset):
            from mlimpact.slices import slice_summary  # on use: start-up

            summary["named_slices"] = slice_summary(dataset, slices, threshold=args.threshold, seed=args.seed)
        if args.verdicts:
            summary["review"] = _review(args.verdicts, dataset)
        write(json_text(summary), args.out)
        return EXIT_OK
    from mlimpact.report import ReportSettings, build_report, report_html, report_markdown  # altair: on use

    report = build_report(dataset, ReportSettings(threshold=args.threshold, seed=args.seed,
                                                    max_values=args.max_values or 20,
                                                    named_slices=tuple(given_slices(args, dataset))))
    if args.format == "pdf":
        from pathlib import Path  # noqa: I001 - on use: only the PDF writes bytes
        from mlimpact.report import report_pdf  # fpdf2: on use

        Path(args.out).write_bytes(report_pdf(report, paper=args.paper))
        return EXIT_OK
    write(report_markdown(report) if args.format == "markdown" else report_html(report), args.out)
    return EXIT_OK


_WHY = "the engines compute the summary JSON of binary tasks with a score, multiclass and regression; reports and " \
       "binary tasks with only a predicted class are computed in memory in this version"


def _run_engine(args, engine: str) -> int | None:
    """The summary JSON computed where the data lives (DuckDB or Spark); None when only the memory path can
    compute it (DuckDB then reads the source into memory, within the budget)."""
    from mlimpact.errors import InputError  # noqa: I001 - on use: start-up

    if args.format != "json":
        if engine == "spark":
            raise InputError(f"--format {args.format} is computed in memory in this version; use --engine duckdb or "
                             "memory (Spark prints the summary JSON, --format json)")
        return None
    from mlimpact.report.scaled import summarize_engine  # on use: the engine path only

    eds = engine_dataset_or_none(args, engine)
    if eds is None:
        return None
    try:
        def progress(done, total, what):
            print(f"{engine}: {done}/{total} {what}", file=sys.stderr)

        summary = summarize_engine(eds, seed=args.seed, max_values=args.max_values, progress=progress,
                                   slices=given_slices(args, eds=eds))  # checked against the source's columns there
    finally:
        eds.close()
    write(json_text(summary), args.out)
    return EXIT_OK


def _review(path: str, dataset) -> dict:
    """What the reviewers of a filled-in queue found (``--verdicts``)."""
    from pathlib import Path  # noqa: I001 - on use: only --verdicts reads a second file
    from mlimpact.errors import InputError  # on use: start-up
    from mlimpact.review import read_queue, review_summary  # on use: start-up

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file; give the queue that review-sample wrote, with verdicts filled in")
    verdicts = read_queue(p.read_text(encoding="utf-8-sig", errors="replace"), dataset, name=p.name)
    for line in review_summary(verdicts, source=p.name)["sentences"]:
        print(f"note: {line}", file=sys.stderr)
    return review_summary(verdicts, source=p.name)
