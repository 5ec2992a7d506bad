"""Behaviour is pinned: the CLI's JSON on every sample is byte-identical to tests/golden/.

The golden files were written by ``tests/golden/make_golden.py`` before the package was re-laid
into subpackages; a change that alters any number, key or message shows up here.
"""

import pytest

from tests.golden.make_golden import HERE, SAMPLES, commands, run

CASES = [(sample, name) for sample in SAMPLES for name in commands(sample)]


@pytest.mark.parametrize(("sample", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_cli_output_matches_golden(sample, name):
    code, out, err = run(commands(sample)[name])
    assert out == (HERE / f"{sample}.{name}.json").read_text()
    assert f"exit {code}\n{err}" == (HERE / f"{sample}.{name}.stderr").read_text()
