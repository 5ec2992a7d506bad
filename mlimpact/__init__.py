"""mlimpact: what a model is worth, from a file of predictions.

The analysis package behind the Streamlit app and the ``python -m mlimpact`` CLI.
It never imports streamlit. Heavy libraries (scikit-learn, scipy) are imported
inside the functions that need them, to keep CLI and page start-up fast.

In a notebook: ``import mlimpact as mi; ev = mi.evaluate("predictions.csv")`` (:mod:`mlimpact.api`).
``evaluate`` and ``Evaluation`` are imported on first use (PEP 562), so ``import mlimpact`` and the CLI's
start-up do not load pandas for them. The names in ``__all__`` are the stable API.
"""

from mlimpact.errors import InputError

__version__ = "0.1.0"

__all__ = ["evaluate", "Evaluation", "InputError", "__version__"]

_LAZY = ("evaluate", "Evaluation")


def __getattr__(name: str):
    if name in _LAZY:
        from mlimpact.api import Evaluation, evaluate  # on use: pandas and the analyses load on first use

        globals().update(evaluate=evaluate, Evaluation=Evaluation)
        return globals()[name]
    raise AttributeError(f"module 'mlimpact' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
