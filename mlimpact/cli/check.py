"""``python -m mlimpact check FILE --config checks.toml``: exit 1 when a metric leaves its range."""

from __future__ import annotations

import sys

from mlimpact.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, json_text, load_file


def run(args) -> int:
    """One line per violation on stdout (exit 1); a one-line summary on stderr; 0 when all is in range."""
    from mlimpact.monitoring import (  # on use: start-up
        check_results,
        evaluate_ranges,
        read_checks,
        role_changes,
        validate_config,
    )

    config = read_checks(args.config)
    from mlimpact.engine.dataset import choose_engine  # on use: start-up

    engine = choose_engine(args.file, args.engine)
    if engine == "memory":
        dataset = load_file(args.file, role_changes(config.columns))
        validate_config(dataset, config, str(args.config))
        status = evaluate_ranges(dataset, config.ranges, settings=config.settings)
    else:
        status = _engine_status(args, engine, config)
    report = check_results(status)
    if args.format == "json":
        sys.stdout.write(json_text(report))
    else:
        for v in report["violations"]:
            print(v["message"])
    n_bad, checked = len(report["violations"]), report["checked"]
    if checked == 0 and not args.allow_unchecked:
        print(f"mlimpact: error: nothing could be checked ({report['too_small']} buckets too small, "
              f"{report['unavailable']} unavailable); lower min_count or min_positives in [settings], use a longer "
              "period, or pass --allow-unchecked to accept it", file=sys.stderr)
        return EXIT_BAD_INPUT
    extra = f" ({report['too_small']} buckets too small to check)" if report["too_small"] else ""
    summary = (f"{n_bad} of {checked} checks out of range" if n_bad else f"all {checked} checks in range") + extra
    print(summary, file=sys.stderr)
    return EXIT_CHECK_FAILED if n_bad else EXIT_OK


def _engine_status(args, engine: str, config):
    """The status table computed where the data lives."""
    from mlimpact.engine.dataset import open_engine_dataset  # noqa: I001 - on use: the engine path only
    from mlimpact.engine.tables import score_keys  # on use: as above
    from mlimpact.monitoring import role_changes, validate_config  # on use: start-up
    from mlimpact.monitoring.engine_series import engine_evaluate_ranges  # on use: as above

    eds = open_engine_dataset(args.file, engine, role_changes(config.columns), threshold=config.settings.threshold,
                              spark_master=args.spark_master)
    try:
        for line in eds.inferred:
            print(line, file=sys.stderr)
        validate_config(eds, config, str(args.config))
        return engine_evaluate_ranges(eds, score_keys(eds.backend, eds.spec), config.ranges, settings=config.settings)
    finally:
        eds.close()
