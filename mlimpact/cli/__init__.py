"""The command line: ``python -m mlimpact``; the only place with argparse and printing."""

from mlimpact.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
