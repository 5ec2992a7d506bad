"""``python -m mlimpact summarize``: the summary object as JSON, or the report as Markdown/HTML."""

from __future__ import annotations

import sys

from mlimpact.cli.common import EXIT_OK, json_text, load_dataset, load_engine_dataset, write


def run(args) -> int:
    """Print (or ``--out``) the summary JSON of DESIGN.md, or the whole report."""
    from mlimpact.engine.dataset import choose_engine  # on use: start-up

    engine = choose_engine(args.file, args.engine)
    if engine != "memory":
        return _run_engine(args, engine)
    dataset = load_dataset(args)
    if args.format == "json":
        from mlimpact.report.summarize import summarize  # on use: keeps the other commands' start-up light

        summary = summarize(dataset, threshold=args.threshold, seed=args.seed, max_values=args.max_values)
        write(json_text(summary), args.out)
        return EXIT_OK
    from mlimpact.report import ReportSettings, build_report, report_html, report_markdown  # altair: on use

    report = build_report(dataset, ReportSettings(threshold=args.threshold, seed=args.seed,
                                                    max_values=args.max_values or 20))
    write(report_markdown(report) if args.format == "markdown" else report_html(report), args.out)
    return EXIT_OK


def _run_engine(args, engine: str) -> int:
    """The summary JSON computed where the data lives (DuckDB or Spark)."""
    from mlimpact.errors import InputError  # on use: start-up

    if args.format != "json":
        raise InputError(f"--format {args.format} needs --engine memory in this version; the {engine} engine "
                         "prints the summary JSON (--format json)")
    from mlimpact.report.scaled import summarize_engine  # on use: the engine path only

    eds = load_engine_dataset(args, engine)
    try:
        def progress(done, total, what):
            print(f"{engine}: {done}/{total} {what}", file=sys.stderr)

        summary = summarize_engine(eds, seed=args.seed, max_values=args.max_values, progress=progress)
    finally:
        eds.close()
    write(json_text(summary), args.out)
    return EXIT_OK
