"""A small, safe slice language: ``amount > 500 and channel == "online"``, read by a hand-written tokenizer and
recursive-descent parser (never ``eval``, never pandas ``query``). Keywords in any case::

    expr := or ;  or := and ('or' and)* ;  and := not ('and' not)* ;  not := 'not' not | '(' expr ')' | comparison
    comparison := column ('==' | '=' | '!=' | '>' | '>=' | '<' | '<=') value | column 'between' value 'and' value
                | column ['not'] 'in' '(' value (',' value)* ')' | column 'is' ['not'] 'null'
    column := [A-Za-z_][A-Za-z0-9_]* | `any text` (`` for a backtick)
    value := number | "text" | 'text' (a backslash keeps the next character) | true | false

One type rule: a text column takes quoted values and only ``== != in``; a number column numbers; a true/false
column ``true``/``false``; a time column a quoted time (``"2026-03-01"``, read in the column's zone when it has
none), compared as a timestamp. Missing values, as pandas ``query``: every comparison is False on them, and
``!=``, ``not in`` and ``not`` are exact negations, so they hold there (``not amount > 5`` keeps the missing
amounts); ``is null`` finds them. Evaluation is vectorized: codes (:func:`~mlimpact.io.dataset.encode_column`)
for text, numpy for the rest. A text value that does not occur is a warning (``Slice.warnings``), not an error.
Positions count characters from 1, newlines included. A column with no values takes any value, each row as missing.

>>> parse_slice("Amount > 500 AND `device type` in ('app', \\"web\\")", ["Amount", "device type"]).text
'Amount > 500 and `device type` in ("app", "web")'
"""

from __future__ import annotations

import difflib
import math
import re
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io.dataset import Dataset, encode_column

__all__ = ["parse_slice", "format_slice", "describe_slice", "slice_name_ok", "Slice", "SliceError", "Term",
           "Node", "MAX_LENGTH", "MAX_TERMS", "MAX_DEPTH", "absent_values"]

MAX_LENGTH, MAX_TERMS, MAX_DEPTH = 2000, 200, 50
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "between", "true", "false"})
_TOKEN = re.compile(r"""(?P<space>\s+)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<tick>`(?:[^`]|``)*`)
    |(?P<num>-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>==|!=|>=|<=|>|<|=)|(?P<punct>[(),])|(?P<open>["'`])|(?P<bad>.)""", re.S | re.X)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_HINTS = {"&": "; write `and`", "|": "; write `or`", "!": "; write `not` or `!=`", "~": "; write `not`"}
_KIND_NAMES = {"number": "number", "numeric": "number", "text": "text", "category": "text", "string": "text",
               "time": "time", "datetime": "time", "bool": "bool", "boolean": "bool"}
_HOLDS = {"text": "text", "number": "numbers", "bool": "true/false", "time": "times"}
_EXAMPLE = {"number": "a number", "bool": "true or false", "time": 'a time such as "2026-03-01"'}
_ORDERING = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
_COMPARE = {**_ORDERING, "==": np.equal, "!=": np.not_equal}
_Token = namedtuple("_Token", "kind value text at")  # kind: name kw num str op ( ) , end; at: 1-based


class SliceError(InputError):
    """A slice that cannot be read or does not fit the data, at ``position`` (1-based, None: the whole)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message if position is None else f"col {position}: {message}")


@dataclass(frozen=True)
class Term:
    """One comparison; ``op`` is == != > >= < <= (one value), in / not in (one or more), is null /
    is not null (none) or between (two). ``at`` (not compared): where the column, operator and values were."""

    column: str
    op: str
    values: tuple = ()
    at: tuple[int, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Node:
    """``and`` / ``or`` of two or more children, or ``not`` of one."""

    op: str
    children: tuple


def _q(name: str) -> str:
    """A column name or token as messages show it; the end token's empty text as "the end"."""
    return f"`{name if len(name) <= 60 else name[:57] + '...'}`" if name else "the end"


def _literal(value) -> str:
    """A value as the language writes it: true, 5, 0.25, "text" (double quotes, backslash escapes)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def _tokens(text: str) -> list[_Token]:
    """The tokens of ``text``, then an end token."""
    if not isinstance(text, str):
        raise SliceError("a slice must be text, such as amount > 500")
    if len(text) > MAX_LENGTH:
        raise SliceError(f"the slice is {len(text):,} characters long; the most is {MAX_LENGTH:,}")
    if bad := _CONTROL.search(text):
        raise SliceError(f"control character U+{ord(bad.group()):04X} is not allowed", bad.start() + 1)
    out = []
    for m in _TOKEN.finditer(text):
        kind, word, at, value = m.lastgroup, m.group(), m.start() + 1, m.group()
        if kind in ("open", "bad"):
            raise SliceError({"`": "unclosed backtick", '"': "unclosed quote", "'": "unclosed quote"}.get(
                word, f"unexpected character `{word}`{_HINTS.get(word, '')}"), at)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", word[1:-1], flags=re.S)
        elif kind == "tick":
            kind, value = "name", word[1:-1].replace("``", "`")
            if not value:
                raise SliceError("empty column name between backticks", at)
        elif kind == "word":
            kind, value = ("kw", word.lower()) if word.lower() in KEYWORDS else ("name", word)
        elif kind == "num":
            value = float(word) if any(c in word for c in ".eE") else int(word)
            if not math.isfinite(value):
                raise SliceError(f"the number {word[:20]} is too large", at)
        if kind != "space":
            out.append(_Token(word if kind == "punct" else kind, value, word, at))
    return [*out, _Token("end", None, "", len(text) + 1)]


class _Parser:
    def __init__(self, tokens: list[_Token], known: Sequence[str] | None) -> None:
        self.tokens, self.i, self.depth, self.terms, self.known = tokens, 0, 0, 0, known

    def peek(self, kind: str, value=None) -> bool:
        t = self.tokens[self.i]
        return t.kind == kind and (value is None or t.value == value)

    def take(self, kind: str | None = None, value=None, expected: str = "") -> _Token:
        """The next token; with ``kind``, a SliceError "expected ..., found ..." unless it is that."""
        t = self.tokens[self.i]
        if kind is not None and not self.peek(kind, value):
            unmatched = (t.kind, kind) == (")", "end")
            raise SliceError("unmatched `)`" if unmatched else f"expected {expected}, found {_q(t.text)}", t.at)
        self.i += 1
        return t

    def expr(self) -> Term | Node:
        if self.peek("end"):
            raise SliceError("the slice is empty; write a condition such as amount > 500", 1)
        node = self.logic("or")
        self.take("end", None, "`and`, `or` or the end")
        return node

    def logic(self, word: str) -> Term | Node:
        parts = [self.logic("and") if word == "or" else self.negation()]
        while self.peek("kw", word) and self.take():
            parts.append(self.logic("and") if word == "or" else self.negation())
        return parts[0] if len(parts) == 1 else Node(word, tuple(parts))

    def negation(self) -> Term | Node:
        t = self.tokens[self.i]
        if t.kind == "(" or (t.kind, t.value) == ("kw", "not"):
            self.i, self.depth = self.i + 1, self.depth + 1
            if self.depth > MAX_DEPTH:
                raise SliceError(f"the slice nests more than {MAX_DEPTH} levels of `not` and parentheses", t.at)
            node = self.logic("or") if t.kind == "(" else Node("not", (self.negation(),))
            if t.kind == "(":
                self.take(")", None, f"`)` to close the `(` at col {t.at}")
            self.depth -= 1
            return node
        if t.kind == "kw":
            raise SliceError(f"expected a column name or `(`, found {_q(t.text)} (a column of that name goes in "
                             f"backticks: `{t.text}`)", t.at)
        return self.comparison(self.take("name", None, "a column name or `(`"))

    def column(self, t: _Token) -> str:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise SliceError(f"the slice has more than {MAX_TERMS} comparisons; split it", t.at)
        if self.known is None or t.value in self.known:
            return t.value
        close = [c for c in self.known if c.casefold() == t.value.casefold()]
        close = close or difflib.get_close_matches(t.value, list(self.known), n=1)
        hint = f"; did you mean {_q(close[0])}?" if close else f"; the data has {len(self.known):,} other columns"
        raise SliceError(f"unknown column {_q(t.value)}{hint}", t.at)

    def value(self, after: _Token) -> _Token:
        t = self.take()
        if t.kind in ("num", "str") or (t.kind == "kw" and t.value in ("true", "false")):
            return t._replace(value=t.value == "true") if t.kind == "kw" else t
        raise SliceError(f"expected a value after `{after.text}`" + (t.text and f", found {_q(t.text)}"), t.at)

    def comparison(self, col: _Token) -> Term:
        name, op = self.column(col), self.take()
        word, values = op.value if op.kind in ("kw", "op") else None, []
        if op.kind == "op" or word == "between":
            values = [self.value(op)]
        if word == "between":
            values.append(self.value(self.take("kw", "and", "`and` between the two values of `between`")))
        elif word in ("not", "in"):
            op = self.take("kw", "in", "`in` after `not`") if word == "not" else op
            values = [self.value(self.take("(", None, 'a list after `in`, as in region in ("west", "north")'))]
            while self.peek(","):
                values.append(self.value(self.take()))
            self.take(")", None, "`,` or `)` in the list after `in`")
            word = "not in" if word == "not" else word
        elif word == "is":
            word = "is not null" if self.peek("kw", "not") and self.take() else "is null"
            self.take("kw", "null", f"`null` after `{word[:-5]}`")
        elif op.kind != "op":
            raise SliceError(f"expected an operator after {_q(name)} (== != > >= < <= in, not in, is null, "
                             f"between), found {_q(op.text)}", op.at)
        return Term(name, "==" if word == "=" else word, tuple(v.value for v in values),
                    (col.at, op.at, *(v.at for v in values)))


def format_slice(node: Term | Node) -> str:
    """The canonical text of a tree: ``parse_slice(format_slice(t)).tree == t``.

    >>> format_slice(parse_slice("(a>1 OR b='x') and NOT `c d` is null").tree)
    '(a > 1 or b == "x") and not `c d` is null'
    """
    if isinstance(node, Term):
        col, values = node.column, [_literal(v) for v in node.values]
        col = col if _IDENT.fullmatch(col) and col.lower() not in KEYWORDS else "`" + col.replace("`", "``") + "`"
        if node.op in ("in", "not in"):
            return f"{col} {node.op} ({', '.join(values)})"
        return f"{col} {node.op}" + (" " + " and ".join(values) if values else "")
    bare = [isinstance(c, Term) or c.op == "not" or (node.op, c.op) == ("or", "and") for c in node.children]
    parts = [format_slice(c) if b else f"({format_slice(c)})" for c, b in zip(node.children, bare, strict=True)]
    return f"not {parts[0]}" if node.op == "not" else f" {node.op} ".join(parts)


def _terms(node: Term | Node) -> list[Term]:
    """The comparisons of a tree, left to right."""
    return [node] if isinstance(node, Term) else [t for c in node.children for t in _terms(c)]


def _timestamp(value: str, zone) -> np.datetime64 | None:
    """A quoted time as a zone-free datetime64 (UTC when it or the column has a zone); None if not a time."""
    try:
        ts = pd.Timestamp(value) if re.match(r"\s*[0-9]", value) else pd.NaT
        if zone is not None or (ts is not pd.NaT and ts.tz is not None):
            ts = (ts.tz_localize(zone) if ts.tz is None else ts).tz_convert("UTC").tz_localize(None)
        return None if ts is pd.NaT else ts.to_datetime64()
    except (ValueError, TypeError, OverflowError):
        return None


def _check(tree, kinds: Mapping[str, str], zones: Mapping) -> None:
    """Raise a :class:`SliceError` at the first comparison that does not fit its column's kind."""
    for term in _terms(tree):
        kind, holds = kinds.get(term.column, "any"), _HOLDS.get(kinds.get(term.column), "")
        if kind in ("text", "bool") and (term.op in _ORDERING or term.op == "between"):
            raise SliceError(f"{_q(term.column)} holds {holds}; compare it with == or in, not {term.op}", term.at[1])
        for value, at in zip(term.values, term.at[2:], strict=True):
            wrong = kind != "any" and (isinstance(value, bool) != (kind == "bool")
                                       or isinstance(value, str) != (kind in ("text", "time")))
            if wrong and kind == "text":
                raise SliceError(f"{_q(term.column)} holds text; write the value in quotes: "
                                 f"{_literal(_literal(value) if isinstance(value, bool) else str(value))}", at)
            if wrong or (kind == "time" and _timestamp(value, zones.get(term.column)) is None):
                raise SliceError(f"{_q(term.column)} holds {holds}; compare it with {_EXAMPLE[kind]}, "
                                 f"not {_literal(value)}", at)


class _Columns:
    """The columns of one frame or Dataset; a text column encoded once."""

    def __init__(self, data) -> None:
        self.dataset, self.frame = (data, data.frame) if isinstance(data, Dataset) else (None, data)
        self.labels, self.cache, self.kinds = {str(c): c for c in self.frame.columns}, {}, {}

    def __getitem__(self, name: str) -> pd.Series:
        s = self.frame[self.labels[name]]
        if isinstance(s, pd.DataFrame):
            raise SliceError(f"column {_q(name)} appears more than once in the data; rename one")
        return s

    def codes(self, name: str) -> tuple[np.ndarray, dict[str, int]]:
        """A text column's codes and the code of each value that occurs (missing values have none)."""
        if name not in self.cache:
            codes, labels = self.dataset.codes(self.labels[name]) if self.dataset else encode_column(self[name])
            real = len(labels) - int(self[name].isna().any())
            self.cache[name] = codes, {label: i for i, label in enumerate(labels[:real])}
        return self.cache[name]


def _term_mask(term: Term, cols: _Columns) -> np.ndarray:
    s = cols[term.column]
    if term.op in ("is null", "is not null"):
        return s.isna().to_numpy(dtype=bool) ^ (term.op == "is not null")
    kind = cols.kinds[term.column]
    if kind == "any":  # a column without values: every comparison is False, its negations True
        return np.full(len(s), term.op in ("!=", "not in"))
    if kind == "text":
        x, lookup = cols.codes(term.column)
        wanted = [lookup[v] for v in term.values if v in lookup]
    else:  # numbers as they are (or floats with NaN), true/false as 1.0/0.0, times as zone-free datetime64
        zone = getattr(s.dtype, "tz", None)
        x = (s.dt.tz_convert("UTC").dt.tz_localize(None) if zone else s).to_numpy() if kind == "time" else \
            s.to_numpy() if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf" else \
            s.to_numpy(dtype=float, na_value=np.nan)
        wanted = [_timestamp(v, zone) if kind == "time" else float(v) if kind == "bool" else v for v in term.values]
    if term.op == "between":
        return (x >= wanted[0]) & (x <= wanted[1])
    if term.op in ("in", "not in") or kind == "text":
        inside = np.isin(x, wanted) if wanted else np.zeros(len(x), dtype=bool)
        return ~inside if term.op in ("not in", "!=") else inside
    return _COMPARE[term.op](x, wanted[0])


def _evaluate(node: Term | Node, cols: _Columns) -> np.ndarray:
    if isinstance(node, Term):
        return np.asarray(_term_mask(node, cols), dtype=bool)
    if node.op == "not":
        return ~_evaluate(node.children[0], cols)
    return reduce(np.logical_and if node.op == "and" else np.logical_or, (_evaluate(c, cols) for c in node.children))


def _prepare(tree, cols: _Columns) -> dict[str, str]:
    """Check ``tree`` against the data's columns; the kind of each column it reads ("any": no values)."""
    for term in (t for t in _terms(tree) if t.column not in cols.labels):
        _Parser([], list(cols.labels)).column(_Token("name", term.column, term.column, term.at[0]))
    for c in dict.fromkeys(t.column for t in _terms(tree)):
        s, types = cols[c], pd.api.types
        cols.kinds[c] = "any" if not s.notna().any() else "bool" if types.is_bool_dtype(s.dtype) else \
            "number" if types.is_numeric_dtype(s.dtype) else "time" if types.is_datetime64_any_dtype(s.dtype) else "text"
    _check(tree, cols.kinds, {c: getattr(cols[c].dtype, "tz", None) for c in cols.kinds})
    return cols.kinds


@dataclass(frozen=True)
class Slice:
    """A parsed slice: its canonical ``text``, the ``columns`` it reads, its ``tree`` and ``warnings``."""

    text: str
    columns: tuple[str, ...]
    tree: Term | Node
    warnings: tuple[str, ...] = ()

    def mask(self, data: pd.DataFrame | Dataset) -> np.ndarray:
        """The rows of ``data`` (a DataFrame or a Dataset) in the slice, as a boolean array.

        >>> parse_slice("x > 1 or y is null").mask(pd.DataFrame({"x": [0, 2, 0], "y": ["a", "b", None]}))
        array([False,  True,  True])
        """
        cols = _Columns(data)
        _prepare(self.tree, cols)
        return _evaluate(self.tree, cols)


def absent_values(tree, kinds: Mapping[str, str], values_of) -> list[str]:
    """A warning for each text value that does not occur in its column, with the nearest one that does: the values
    from ``values_of(column, wanted)`` (all that occur, or those of ``wanted`` that do; in memory or on an engine)."""
    found = []
    for term in (t for t in _terms(tree) if kinds[t.column] == "text" and t.values):
        lookup = values_of(term.column, term.values)
        for value in (v for v in term.values if v not in lookup):
            close = [c for c in lookup if c.casefold() == value.casefold()] if len(lookup) <= 100_000 else []
            close = close or (difflib.get_close_matches(value, list(lookup), n=1) if len(lookup) <= 5000 else [])
            found.append(f"{_q(term.column)} has no value {_literal(value)[:80]}"
                         + (f"; did you mean {_literal(close[0])}?" if close else ""))
    return list(dict.fromkeys(found))


def parse_slice(text: str, columns: Mapping[str, str] | Sequence[str] | pd.DataFrame | Dataset | None = None
                ) -> Slice:
    """Read a slice. ``columns``: the names it may use (a sequence), with their kinds (a mapping to "number",
    "text", "time" or "bool"), or the data itself (a DataFrame or Dataset: kinds, and a warning for each text
    value that does not occur); None accepts any column. Raises :class:`SliceError` pointing at the problem.

    >>> parse_slice("region > 5", {"region": "text"})
    Traceback (most recent call last):
    ...
    mlimpact.slices.language.SliceError: col 8: `region` holds text; compare it with == or in, not >
    """
    cols = _Columns(columns) if isinstance(columns, pd.DataFrame | Dataset) else None
    known = None if columns is None else list(cols.labels) if cols else [str(c) for c in columns]
    tree = _Parser(_tokens(text), known).expr()
    warnings = []
    if cols is not None:
        warnings = absent_values(tree, _prepare(tree, cols), lambda column, wanted: cols.codes(column)[1])
        if warnings and not _evaluate(tree, cols).any():
            warnings[-1] += ("" if warnings[-1].endswith("?") else ".") + " The slice has 0 rows."
    elif isinstance(columns, Mapping):
        _check(tree, {str(c): _KIND_NAMES.get(str(k).lower(), "any") for c, k in columns.items()}, {})
    return Slice(format_slice(tree), tuple(dict.fromkeys(t.column for t in _terms(tree))), tree, tuple(warnings))


def describe_slice(piece: Slice, data: pd.DataFrame | Dataset, name: str | None = None) -> str:
    """``name`` (or the slice's text) with its rows and share of the data: "big x: 2 rows (50.0%)"."""
    mask = piece.mask(data)
    k, share = int(mask.sum()), f" ({mask.mean():.1%})" if len(mask) else ""
    return f"{name or piece.text}: {k:,} {'row' if k == 1 else 'rows'}{share}"


def slice_name_ok(name: object) -> bool:
    """A slice's name: 1 to 60 printable characters, not only spaces."""
    return isinstance(name, str) and 1 <= len(name) <= 60 and name.isprintable() and bool(name.strip())
