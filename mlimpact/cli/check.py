"""``python -m mlimpact check FILE --config checks.toml``: exit 1 when a metric leaves its range."""

from __future__ import annotations

import argparse
import sys

from mlimpact.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    chosen_engine,
    given_slices,
    json_text,
    load_file,
)
from mlimpact.errors import InputError


def run(args) -> int:
    """One line per violation on stdout (exit 1); a one-line summary on stderr; 0 when all is in range."""
    from mlimpact.monitoring import (  # on use: start-up
        causes_document,
        check_results,
        evaluate_ranges,
        read_checks,
        role_changes,
        slice_names,
        validate_config,
        with_slices,
    )

    if args.webhook and not args.webhook.lower().startswith(("http://", "https://")):
        raise InputError(f"--webhook {args.webhook!r}: give an http:// or https:// address")
    config = with_slices(read_checks(args.config), follow=given_slices(argparse.Namespace(slice=args.slice, slices=[])),
                         named=given_slices(argparse.Namespace(slice=[], slices=args.slices)))
    engine = chosen_engine(args)
    if engine == "memory":
        dataset = load_file(args.file, role_changes(config.columns))
        validate_config(dataset, config, str(args.config))
        status = evaluate_ranges(dataset, config.ranges, settings=config.settings,
                                 reference_end=config.reference_end, slices=slice_names(config))
    else:
        status = _engine_status(args, engine, config)
    report = check_results(status)
    if engine == "memory":
        report["causes"] = causes_document(dataset, status, reference_end=config.reference_end,
                                           settings=config.settings) if report["violations"] else []
    shown = _deliver(args, report) if (args.state or args.notify_command or args.webhook) else report
    if args.format == "json":
        sys.stdout.write(json_text(shown))
    else:
        for v in shown["violations"]:
            print(v["message"])
        for v in shown.get("resolved", []):
            print(f"resolved: {v['message']} (now {v['now']})")
        for c in shown.get("causes", []):  # why: on stderr, so stdout keeps one line per violation
            print(f"why: {c['sentence']}", file=sys.stderr)
    n_bad, checked = len(report["violations"]), report["checked"]
    if checked == 0 and not args.allow_unchecked:
        print(f"mlimpact: error: nothing could be checked ({report['too_small']} buckets too small, "
              f"{report['unavailable']} unavailable); lower min_count or min_positives in [settings], use a longer "
              "period, or pass --allow-unchecked to accept it", file=sys.stderr)
        return EXIT_BAD_INPUT
    extra = f" ({report['too_small']} buckets too small to check)" if report["too_small"] else ""
    if args.state and shown.get("ongoing"):
        extra += f"; {shown['ongoing']} already reported (--state)"
    summary = (f"{n_bad} of {checked} checks out of range" if n_bad else f"all {checked} checks in range") + extra
    print(summary, file=sys.stderr)
    return EXIT_CHECK_FAILED if n_bad else EXIT_OK


def _engine_status(args, engine: str, config):
    """The status table computed where the data lives."""
    from mlimpact.engine.dataset import global_keys, open_engine_dataset  # on use: the engine path only
    from mlimpact.monitoring import role_changes, slice_names, validate_config  # on use: start-up
    from mlimpact.monitoring.engine_series import engine_evaluate_ranges  # on use: as above

    eds = open_engine_dataset(args.file, engine, role_changes(config.columns), threshold=config.settings.threshold,
                              spark_master=args.spark_master)
    try:
        for line in eds.inferred:
            print(line, file=sys.stderr)
        validate_config(eds, config, str(args.config))
        return engine_evaluate_ranges(eds, global_keys(eds), config.ranges, settings=config.settings,
                                      reference_end=config.reference_end, slices=slice_names(config))
    finally:
        eds.close()


def _deliver(args, report: dict) -> dict:
    """Send what is new (and what was resolved) to the command and the webhook; remember it in --state.

    Returns the document to print: with --state, only the new violations (the ongoing ones are counted)."""
    from mlimpact.monitoring.delivery import (  # on use: only runs that deliver need it
        load_state,
        notify_command,
        plan_notification,
        post_webhook,
        save_state,
    )

    sent, warning = load_state(args.state) if args.state else (None, None)
    if warning:
        print(f"note: {warning}", file=sys.stderr)
    plan = plan_notification(report, sent)
    delivered = True
    if not plan.empty:
        problems = []
        if args.notify_command:
            problems.append(notify_command(args.notify_command, plan.document))
        if args.webhook:
            problems.append(post_webhook(args.webhook, plan.document))
        for problem in filter(None, problems):
            print(f"mlimpact: {problem}", file=sys.stderr)
            delivered = False
        if args.notify_command or args.webhook:
            print(f"{'sent' if delivered else 'NOT sent'}: {len(plan.new)} new and {len(plan.resolved)} resolved "
                  f"incident(s){'' if delivered else '; they stay unsent and are tried again next run'}",
                  file=sys.stderr)
    if args.state:
        if delivered:
            save_state(args.state, plan.state_after)
        elif warning:  # an unreadable state is replaced even when the delivery failed
            save_state(args.state, {})
    return plan.document if args.state else report
