"""The slice language: masks against pandas ``query`` on generated frames, the canonical text round trip, every
error with its message and position, 1M rows, hostile input."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlimpact.errors import InputError
from mlimpact.io import Roles, build_dataset
from mlimpact.slices import Slice, SliceError, format_slice, parse_slice
from mlimpact.slices.language import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    Node,
    Term,
    describe_slice,
    slice_name_ok,
)

TEXTS = ["west", "north", "", "a b", 'o"q', "it's", "back\\slash", "Ünïcode"]
DEVICES = ["app", "web"]
DAYS = [pd.Timestamp(d) for d in ["2026-02-27", "2026-03-01", "2026-03-01 12:00", "2026-03-02"]]
NUMBERS = [-3, -1.5, 0, 1, 2.5, 10]
KINDS = {"amount": "number", "count": "number", "region": "text", "device type": "text", "tier": "text",
         "when": "time", "flag": "bool"}


# ---- generated frames and expressions ---------------------------------------------------------------------


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 25))
    pick = lambda options: draw(st.lists(st.sampled_from(options), min_size=n, max_size=n))  # noqa: E731
    return pd.DataFrame({
        "amount": np.array(pick([*NUMBERS, np.nan]), dtype=float),
        "count": np.array(pick([-2, 0, 1, 5]), dtype=np.int64),
        "region": pd.Series(pick([*TEXTS, None]), dtype=object),
        "device type": pick([*DEVICES, None]),
        "tier": pd.Categorical(pick(["gold", "silver", None])),
        "when": pd.to_datetime(pd.Series(pick([*DAYS, pd.NaT]), dtype="datetime64[ns]")),
        "flag": np.array(pick([True, False]), dtype=bool),
    })


def _values_of(kind: str):
    return {"number": st.sampled_from([*NUMBERS, 7, -0.25, 1e3]),
            "text": st.sampled_from([*TEXTS, *DEVICES, "gold", "silver", "absent"]),
            "time": st.sampled_from(["2026-03-01", "2026-03-01 12:00", "2026-02-28", "2026-03-02T00:00:00"]),
            "bool": st.booleans()}[kind]


@st.composite
def terms(draw) -> Term:
    column = draw(st.sampled_from(sorted(KINDS)))
    kind, value = KINDS[column], _values_of(KINDS[column])
    ops = ["==", "!=", "in", "not in", "is null", "is not null"]
    ops += [">", ">=", "<", "<=", "between"] if kind in ("number", "time") else []
    op = draw(st.sampled_from(ops))
    count = {"in": draw(st.integers(1, 3)), "not in": draw(st.integers(1, 3)), "between": 2}.get(op, 0 if "null" in op
                                                                                               else 1)
    return Term(column, op, tuple(draw(value) for _ in range(count)))


def expressions():
    return st.recursive(terms(), lambda inner: st.one_of(
        st.builds(lambda c: Node("not", (c,)), inner),
        st.builds(lambda op, cs: Node(op, tuple(cs)), st.sampled_from(["and", "or"]),
                  st.lists(inner, min_size=2, max_size=3))), max_leaves=8)


def _render(node, rnd: random.Random) -> str:
    """The test's own writer of the language, with its freedoms: keyword case, quotes, `=`, spaces, backticks."""
    word = lambda w: rnd.choice([w, w.upper(), w.title()])  # noqa: E731
    if isinstance(node, Node):
        if node.op == "not":
            return f"{word('not')} ({_render(node.children[0], rnd)})"
        return f" {word(node.op)} ".join(f"({_render(c, rnd)})" for c in node.children)
    column = f"`{node.column}`" if " " in node.column or rnd.random() < 0.3 else node.column

    def value(v):
        if isinstance(v, bool):
            return word(str(v).lower())
        if isinstance(v, str):
            q = rnd.choice("\"'")
            return q + v.replace("\\", "\\\\").replace(q, "\\" + q) + q
        return repr(v)

    values = [value(v) for v in node.values]
    gap = rnd.choice(["", " ", "  "])
    if node.op in ("in", "not in"):
        return f"{column} {' '.join(word(w) for w in node.op.split())} ({', '.join(values)})"
    if "null" in node.op:
        return f"{column} " + " ".join(word(w) for w in node.op.split())
    if node.op == "between":
        return f"{column} {word('between')} {values[0]} {word('and')} {values[1]}"
    op = "=" if node.op == "==" and rnd.random() < 0.3 else node.op
    return f"{column}{gap}{op}{gap}{values[0]}"


def _to_pandas(node, names: dict) -> str:
    """The same tree as a pandas ``query`` expression, every value passed as a local variable."""
    if isinstance(node, Node):
        if node.op == "not":
            return f"~({_to_pandas(node.children[0], names)})"
        return (" & " if node.op == "and" else " | ").join(f"({_to_pandas(c, names)})" for c in node.children)
    column = f"`{node.column}`"
    refs = []
    for v in node.values:
        refs.append(f"@v{len(names)}")
        names[f"v{len(names)}"] = pd.Timestamp(v) if KINDS[node.column] == "time" else v
    if node.op in ("in", "not in"):
        names[refs[0][1:]] = [names[r[1:]] for r in refs]
        return f"{column} {node.op} {refs[0]}"
    if "null" in node.op:
        return f"{column}.{'isna' if node.op == 'is null' else 'notna'}()"
    if node.op == "between":
        return f"({column} >= {refs[0]}) & ({column} <= {refs[1]})"
    return f"{column} {node.op} {refs[0]}"


def _expected(frame: pd.DataFrame, tree) -> np.ndarray:
    names: dict = {}
    query = _to_pandas(tree, names)
    rows = frame.query(query, engine="python", local_dict=names).index.to_numpy()
    expected = np.zeros(len(frame), dtype=bool)
    expected[rows] = True
    return expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), tree=expressions(), rnd=st.randoms(use_true_random=False))
def test_masks_match_pandas_query(frame, tree, rnd):
    text = _render(tree, rnd)
    piece = parse_slice(text, frame)
    mask = piece.mask(frame)
    assert mask.dtype == bool and mask.shape == (len(frame),)
    np.testing.assert_array_equal(mask, _expected(frame, tree), err_msg=text)
    again = parse_slice(format_slice(piece.tree), frame)
    assert again.tree == piece.tree and again.text == piece.text
    np.testing.assert_array_equal(again.mask(frame), mask)
    assert piece.columns == tuple(dict.fromkeys(t.column for t in _leaves(tree)))


def _leaves(node):
    return [node] if isinstance(node, Term) else [t for c in node.children for t in _leaves(c)]


@settings(max_examples=200, deadline=None)
@given(tree=expressions(), rnd=st.randoms(use_true_random=False))
def test_canonical_text_is_a_fixed_point(tree, rnd):
    piece = parse_slice(_render(tree, rnd), KINDS)
    assert parse_slice(piece.text, KINDS).tree == piece.tree
    assert parse_slice(piece.text).text == piece.text
    assert format_slice(parse_slice(piece.text).tree) == piece.text


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=12).filter(lambda s: s.isprintable()), value=st.text(max_size=12)
       .filter(lambda s: s.isprintable()))
def test_any_column_name_and_text_value_round_trips(name, value):
    tree = Term(name, "in", (value, "x"))
    text = format_slice(tree)
    assert parse_slice(text, [name]).tree == tree
    frame = pd.DataFrame({name: [value, "x", "y", None]})
    np.testing.assert_array_equal(parse_slice(text, frame).mask(frame), [True, True, value == "y", False])


def test_a_dataset_and_its_frame_give_the_same_mask():
    frame = pd.DataFrame({"y": [0, 1, 1, 0, 1], "p": [0.1, 0.9, 0.6, 0.2, 0.5], "region": ["n", "s", None, "n", "e"],
                          "amount": [1, 2, 3, None, 5], "when": ["2026-01-01", "2026-01-02", "2026-01-03",
                                                                   "2026-01-04", "2026-01-05"]})
    ds = build_dataset(frame, Roles(label="y", score="p", segments=("region",), time="when"))
    piece = parse_slice('region in ("n", "e") or amount > 2 and when >= "2026-01-03"', ds)
    np.testing.assert_array_equal(piece.mask(ds), [True, False, True, True, True])
    np.testing.assert_array_equal(piece.mask(ds), piece.mask(ds.frame))


def test_times_with_zones_and_missing_semantics():
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-03-01 00:30", None, "2026-02-28 23:30"]).tz_localize("UTC")
                          .tz_convert("Europe/Paris"), "x": [1.0, np.nan, 7.0]})
    # a zone-free time is read in the column's zone (Paris, UTC+1): 2026-03-01 00:00 Paris = 2026-02-28 23:00 UTC
    np.testing.assert_array_equal(parse_slice('t >= "2026-03-01"', frame).mask(frame), [True, False, True])
    np.testing.assert_array_equal(parse_slice('t >= "2026-03-01T00:00Z"', frame).mask(frame), [True, False, False])
    np.testing.assert_array_equal(parse_slice("not x > 5", frame).mask(frame), [True, True, False])
    np.testing.assert_array_equal(parse_slice("x != 1", frame).mask(frame), [False, True, True])
    np.testing.assert_array_equal(parse_slice("x is not null and x between 0 and 5", frame).mask(frame),
                                  [True, False, False])


# ---- messages --------------------------------------------------------------------------------------------

FRAME = pd.DataFrame({"amount": [1.0, 600.0], "channel": ["online", "store"], "region": ["west", "north"],
                      "timestamp": pd.to_datetime(["2026-02-01", "2026-03-05"]), "flag": [True, False]})

ERRORS = [
    ('amount > 5 and chanel == "online"', 16, "unknown column `chanel`; did you mean `channel`?"),
    ("AMOUNT > 5", 1, "unknown column `AMOUNT`; did you mean `amount`?"),
    ("qqq > 5", 1, "unknown column `qqq`; the data has 5 other columns"),
    ("amount >", 9, "expected a value after `>`"),
    ("amount > region", 10, "expected a value after `>`, found `region`"),
    ('channel == "online', 12, "unclosed quote"),
    ("`amount > 5", 1, "unclosed backtick"),
    ("`` > 5", 1, "empty column name between backticks"),
    ("region > 5", 8, "`region` holds text; compare it with == or in, not >"),
    ('region between "a" and "b"', 8, "`region` holds text; compare it with == or in, not between"),
    ("region == 5", 11, '`region` holds text; write the value in quotes: "5"'),
    ('amount == "x"', 11, '`amount` holds numbers; compare it with a number, not "x"'),
    ("amount in (1, true)", 15, "`amount` holds numbers; compare it with a number, not true"),
    ("flag == 1", 9, "`flag` holds true/false; compare it with true or false, not 1"),
    ("flag > false", 6, "`flag` holds true/false; compare it with == or in, not >"),
    ('timestamp >= "last week"', 14, '`timestamp` holds times; compare it with a time such as "2026-03-01", not '
                                     '"last week"'),
    ('timestamp >= "now"', 14, "`timestamp` holds times"),
    ("timestamp >= 2026", 14, "`timestamp` holds times"),
    ("amount > 5)", 11, "unmatched `)`"),
    ("(amount > 5", 12, "expected `)` to close the `(` at col 1, found the end"),
    ("amount > 5 amount < 9", 12, "expected `and`, `or` or the end, found `amount`"),
    ("amount 5", 8, "expected an operator after `amount`"),
    ("amount <> 5", 9, "expected a value after `<`, found `>`"),
    ("amount is nul", 11, "expected `null` after `is`, found `nul`"),
    ("amount is not 5", 15, "expected `null` after `is not`, found `5`"),
    ("amount not 5", 12, "expected `in` after `not`, found `5`"),
    ('region in "west"', 11, "expected a list after `in`"),
    ("region in ()", 12, "expected a value after `(`, found `)`"),
    ('region in ("a" "b")', 16, "expected `,` or `)` in the list after `in`"),
    ("amount between 1 or 5", 18, "expected `and` between the two values of `between`, found `or`"),
    ("and > 5", 1, "expected a column name or `(`, found `and` (a column of that name goes in backticks: `and`)"),
    ("5 < amount", 1, "expected a column name or `(`, found `5`"),
    ("amount > 5 && flag == true", 12, "unexpected character `&`; write `and`"),
    ("amount > 5 # comment", 12, "unexpected character `#`"),
    ("amount > 1e999", 10, "the number 1e999 is too large"),
    ("   ", 1, "the slice is empty"),
    ("amount > 5 and\n  nope > 1", 18, "unknown column `nope`"),
]


@pytest.mark.parametrize(("text", "position", "message"), ERRORS)
def test_each_error_names_the_problem_and_its_position(text, position, message):
    with pytest.raises(SliceError) as caught:
        parse_slice(text, FRAME)
    assert caught.value.position == position
    assert str(caught.value).startswith(f"col {position}: {message}")
    assert isinstance(caught.value, InputError)


def test_a_value_that_does_not_occur_is_a_warning_not_an_error():
    piece = parse_slice('channel == "onlin"', FRAME)
    assert piece.warnings == ('`channel` has no value "onlin"; did you mean "online"? The slice has 0 rows.',)
    assert not piece.mask(FRAME).any()
    piece = parse_slice('channel in ("ONLINE", "zzz") or amount > 500', FRAME)
    assert piece.warnings == ('`channel` has no value "ONLINE"; did you mean "online"?',
                              '`channel` has no value "zzz"')
    assert piece.mask(FRAME).tolist() == [False, True]
    assert parse_slice('channel == "online"', FRAME).warnings == ()


def test_types_are_checked_again_on_the_data():
    piece = parse_slice("region > 5", ["region"])  # names only: no kinds known yet
    with pytest.raises(SliceError, match=r"^col 8: `region` holds text"):
        piece.mask(FRAME)
    with pytest.raises(SliceError, match=r"^col 1: unknown column `regio`; did you mean `region`\?"):
        parse_slice('regio == "x"').mask(FRAME)


def test_describe_and_names():
    assert describe_slice(parse_slice("amount > 500"), FRAME, "big orders") == "big orders: 1 row (50.0%)"
    assert describe_slice(parse_slice('channel == "x"'), FRAME.iloc[:0]) == 'channel == "x": 0 rows'
    assert [slice_name_ok(n) for n in ["online orders", "", " ", "a\nb", "x" * 60, "x" * 61, None]] == \
        [True, False, False, False, True, False, False]
    assert isinstance(parse_slice("amount > 1"), Slice)


# ---- size and hostile input ------------------------------------------------------------------------------


def test_a_ten_term_slice_on_a_million_rows_matches_pandas():
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame({"amount": np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(5, 1, n)),
                          "count": rng.integers(0, 100, n), "channel": rng.choice(["online", "store", "phone"], n),
                          "region": rng.choice(["west", "north", "east", "south"], n),
                          "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 7_776_000, n), "s"),
                          "flag": rng.random(n) < 0.3})
    piece = parse_slice('(amount > 500 or count <= 10) and channel == "online" and region in ("west", "north") '
                        'and when >= "2026-03-01" and flag == false and amount between 10 and 5000 and channel is '
                        'not null and count != 7 and not region == "east"', frame)
    assert len(_leaves(piece.tree)) == 10
    expected = frame.eval('((amount > 500) | (count <= 10)) & (channel == "online") & region.isin(["west", "north"])'
                          ' & (when >= "2026-03-01") & (flag == False) & (amount >= 10) & (amount <= 5000) & '
                          'channel.notna() & (count != 7) & ~(region == "east")', engine="python")
    np.testing.assert_array_equal(piece.mask(frame), expected.to_numpy())


@pytest.mark.parametrize("text", ["(" * 10_000 + "a > 1" + ")" * 10_000, "x" * (MAX_LENGTH + 1),
                                  'a == "' + "y" * 5000 + '"'])
def test_too_long_is_refused_before_reading(text):
    with pytest.raises(SliceError, match=r"^the slice is [0-9,]+ characters long; the most is 2,000$"):
        parse_slice(text)


@pytest.mark.parametrize("text", ["(" * 900 + "a > 1" + ")" * 900, "not " * 400 + "a > 1",
                                  "(not " * 200 + "a > 1" + ")" * 200])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(text):
    with pytest.raises(SliceError, match=f"nests more than {MAX_DEPTH} levels"):
        parse_slice(text)
    assert parse_slice("(" * MAX_DEPTH + "a > 1" + ")" * MAX_DEPTH).text == "a > 1"


def test_too_many_terms():
    with pytest.raises(SliceError, match=f"more than {MAX_TERMS} comparisons"):
        parse_slice(" or ".join(["a>1"] * (MAX_TERMS + 1)))
    assert len(parse_slice(" or ".join(["a>1"] * MAX_TERMS)).tree.children) == MAX_TERMS


@pytest.mark.parametrize(("text", "code", "position"), [("a == 1\x00", "0000", 7), ('a == "\x1b[31m"', "001B", 7),
                                                        ("a\u202e == 1", "202E", 2), ("a ==\x7f 1", "007F", 5)])
def test_control_characters_are_refused(text, code, position):
    with pytest.raises(SliceError, match=f"^col {position}: control character U\\+{code} is not allowed"):
        parse_slice(text)


@pytest.mark.parametrize("text", [None, 5, b"a > 1", ["a > 1"]])
def test_not_text(text):
    with pytest.raises(SliceError, match="a slice must be text"):
        parse_slice(text)


def test_long_values_and_backslashes_are_quick_and_exact():
    value = "\\" * 900 + '"'
    piece = parse_slice(format_slice(Term("a", "==", (value,))))
    assert piece.tree.values == (value,)
    with pytest.raises(SliceError, match="unclosed quote"):
        parse_slice('a == "' + "\\" * 1990)
    assert parse_slice("`we``ird col` is null").tree.column == "we`ird col"
    assert format_slice(Term("we`ird col", "is null")) == "`we``ird col` is null"
    assert format_slice(Term("and", "==", (True,))) == "`and` == true"


def test_the_module_never_evaluates_text():
    source = (Path(__file__).resolve().parents[2] / "mlimpact" / "slices" / "language.py").read_text()
    assert not re.search(r"\beval\(|literal_eval|\.query\(|\bexec\(|(?<!re\.)compile\(|__import__", source)
