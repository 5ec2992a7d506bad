"""``python -m mlimpact summarize``: the summary object as JSON, or the report as Markdown/HTML."""

from __future__ import annotations

from mlimpact.cli.common import EXIT_OK, json_text, load_dataset, write


def run(args) -> int:
    """Print (or ``--out``) the summary JSON of DESIGN.md, or the whole report."""
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
