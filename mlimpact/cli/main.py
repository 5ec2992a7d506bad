"""``python -m mlimpact``: the same numbers as the app, for scripts, cron and CI.

Exit codes: 0 fine; 1 a check is out of range (``check``); 2 bad input or usage, with one
clear message on stderr; 3 an internal error (a bug), with one line on stderr. Roles left out
are inferred, and what was inferred is printed (to stderr, so ``--format json`` output stays
machine-readable).
"""

from __future__ import annotations

import argparse
import sys

from mlimpact.cli import check, impact, review_sample, slices, summarize
from mlimpact.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, engine_options, slice_options
from mlimpact.errors import InputError
from mlimpact.io.decision import DEFAULT_THRESHOLD, check_threshold

__all__ = ["main", "build_parser"]


def _role_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("columns (inferred when left out)")
    g.add_argument("--label", help="column with the true outcome")
    g.add_argument("--score", help="column with the model's score or probability")
    g.add_argument("--prediction", help="column with the predicted class or value")
    g.add_argument("--segment", action="append", help="segment column (repeat for several)")
    g.add_argument("--time", help="column with the time of each row")
    g.add_argument("--positive", help="the positive class of a binary label (e.g. 1, yes, fraud)")
    g.add_argument("--task", choices=["binary", "multiclass", "regression"], help="override the inferred task")


def _review_parser(sub) -> None:
    """``review-sample``'s options."""
    s = sub.add_parser("review-sample", help="this period's review queue: confident mistakes and a stratified "
                                             "random sample, as a CSV with empty verdict and note columns")
    s.add_argument("file", help="predictions file (or folder, or db.duckdb:table)")
    _role_options(s)
    s.add_argument("--threshold", type=str, default=DEFAULT_THRESHOLD)
    s.add_argument("--n", type=int, default=50, help="rows in the queue (default 50)")
    s.add_argument("--confident", type=int, default=None, help="of which confident mistakes (default: half)")
    s.add_argument("--stratify", default=None, metavar="COL", help="spread the random sample over this column")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="the CSV to write")
    engine_options(s)


def _check_parser(sub) -> None:
    """``check``'s options: the checks file, the delivery of alerts, the engine."""
    s = sub.add_parser("check", help="check metrics against the acceptable ranges in a checks.toml; exit 1 on a "
                                     "violation")
    s.add_argument("file", help="predictions file")
    s.add_argument("--config", required=True, help="checks.toml with [columns] and [[check]] tables")
    s.add_argument("--notify-command", default=None, metavar="CMD",
                   help="run CMD with the violations as JSON on standard input (only when there is something to "
                        "send; no shell: use sh -c '...' for pipes)")
    s.add_argument("--webhook", default=None, metavar="URL",
                   help="POST the same JSON to URL (10 s timeout, 3 tries with backoff)")
    s.add_argument("--state", default=None, metavar="FILE",
                   help="remember what was sent: an ongoing incident is sent (and printed) once, with a 'resolved' "
                        "entry when it is back in range")
    engine_options(s)
    slice_options(s)
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.add_argument("--allow-unchecked", action="store_true",
                   help="exit 0 when no bucket could be checked (default: exit 2, as nothing was verified)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs test)."""
    parser = argparse.ArgumentParser(prog="python -m mlimpact",
                                     description="What a model is worth, from a file of predictions.")
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("summarize", help="headline metrics with intervals, and metrics per segment")
    s.add_argument("file", help="predictions: a CSV/TSV (also .gz/.zip), Parquet or Excel file, a folder of Parquet "
                   "or CSV files, or (DuckDB) db.duckdb:table or db.duckdb:SELECT ...")
    _role_options(s)
    s.add_argument("--threshold", type=str, default=DEFAULT_THRESHOLD, help="flag a row when score >= threshold (default 0.5)")
    s.add_argument("--format", choices=["json", "markdown", "html", "pdf"], default="json",
                   help="json (default), or the report as markdown, html or pdf (pdf needs --out)")
    s.add_argument("--out", help="write to this file instead of standard output")
    s.add_argument("--paper", choices=["A4", "Letter"], default="A4", help="paper size of --format pdf (default A4)")
    s.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals")
    engine_options(s)
    slice_options(s)
    s.add_argument("--verdicts", default=None, metavar="QUEUE",
                   help="a review queue (review-sample's CSV) with verdicts filled in: adds what reviewers found")
    s.add_argument("--max-values", type=int, default=None, metavar="N",
                   help="values shown per segment column, the rest folded into 'Other' (default: every value in "
                        "JSON, 20 in Markdown and HTML)")

    s = sub.add_parser("slices", help="find the weak slices: conjunctions of up to 3 column = value predicates")
    s.add_argument("file", help="predictions file")
    _role_options(s)
    s.add_argument("--threshold", type=str, default=DEFAULT_THRESHOLD, help="decision threshold for binary errors")
    s.add_argument("--error", default=None,
                   help="per-row error: misclassification (default for classes), false_negative, false_positive, "
                        "absolute_error (default for regression), log_loss")
    s.add_argument("--max-level", type=int, default=3, help="most predicates per slice (1-3, default 3)")
    s.add_argument("--min-support", type=int, default=None, help="fewest rows in a slice (default: 0.1%% of the rows, "
                                                                  "at least 20)")
    s.add_argument("--top", type=int, default=10, help="slices to return (default 10)")
    s.add_argument("--scoring", choices=["balanced", "sliceline"], default="balanced")
    s.add_argument("--alpha", type=float, default=0.95, help="SliceLine's alpha (with --scoring sliceline)")
    s.add_argument("--format", choices=["json", "text"], default="json")
    engine_options(s)
    slice_options(s)

    _check_parser(sub)
    _review_parser(sub)

    s = sub.add_parser("impact", help="net value of the model's decisions, the best threshold and baselines")
    s.add_argument("file", help="predictions file")
    _role_options(s)
    s.add_argument("--threshold", type=str, default=DEFAULT_THRESHOLD)
    money = "a number, or a column name whose value per row is used"
    s.add_argument("--value-tp", default="0", help=f"value of a true positive: {money}")
    s.add_argument("--value-tn", default="0", help=f"value of a true negative: {money}")
    s.add_argument("--cost-fp", default="0", help=f"cost of a false positive: {money}")
    s.add_argument("--cost-fn", default="0", help=f"cost of a false negative: {money}")
    s.add_argument("--cost-review", default="0", help=f"cost of one human review: {money}")
    s.add_argument("--rule", default=None, help='a rule to compare with: any slice expression, e.g. "amount > 500" or '
                   '\'channel == "online" and amount > 200\'')
    s.add_argument("--scale", choices=["month", "year"], default=None,
                   help="money per month or per year, from the span of the time column (default: whole file)")
    s.add_argument("--lanes", nargs=2, type=float, metavar=("LOW", "HIGH"), default=None,
                   help="review lane: scores from LOW to below HIGH go to human review")
    s.add_argument("--format", choices=["json", "text"], default="json")
    s.add_argument("--seed", type=int, default=0)
    engine_options(s)
    slice_options(s)
    return parser


#: command -> handler; each takes the parsed args and returns the exit code.
COMMANDS = {"summarize": summarize.run, "slices": slices.run, "check": check.run, "impact": impact.run,
            "review-sample": review_sample.run}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "threshold"):
            args.threshold = check_threshold(args.threshold, name="--threshold")
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"mlimpact: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"mlimpact: error: {getattr(exc, 'filename', '') or ''} {exc.strerror or exc}".strip(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug, not a violation: cron and CI must not read it as exit 1
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        print(f"mlimpact: internal error ({type(exc).__name__}: {first}); this is a bug in mlimpact, please "
              "report it with the command you ran (the file's columns help, not its rows)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
