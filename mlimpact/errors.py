"""The one exception family for bad input.

Every message names what is wrong (file, column, row or value) and says what to do.
The UI shows it with ``st.error``; the CLI prints it and exits 2.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input from the user: a file, a column choice, an option.

    Parameters
    ----------
    message:
        One or more sentences that name the file, column or row and say what to do.
    problems:
        Optional list of every separate problem found, when a file has several
        (validation reports all problems at once, not one per retry).

    >>> err = InputError("column `score`: not found; pick the score column in the sidebar")
    >>> str(err)
    'column `score`: not found; pick the score column in the sidebar'
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[str] = list(problems) if problems else [message]

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
