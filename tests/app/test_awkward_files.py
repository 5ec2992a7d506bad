"""Every page with its defaults on awkward, real-shaped files: never an exception, never an empty view
where the data allows one (a page that cannot show anything says why: Monitoring without a time column)."""

import numpy as np
import pandas as pd
import pytest

from tests.app.test_real_files import _upload, recidivism

PAGES = ["pages/overview.py", "pages/segments.py", "pages/difficulty.py", "pages/review.py", "pages/impact.py",
         "pages/compare.py", "pages/monitoring.py", "pages/data.py"]


def no_time_percent_score(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """No time column, a 0-100 score, a free-text category of 437 values, a duplicated score column."""
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 101, n)
    y = (rng.random(n) < score / 130).astype(int)
    return pd.DataFrame({"outcome": y, "risk_score": score, "risk_score_2": score,
                         "category": [f"cat_{i % 437}" for i in range(n)], "plan": rng.choice(["a", "b", "c"], n)})


FILES = {"recidivism": recidivism, "no time, 0-100 score": no_time_percent_score}


@pytest.mark.parametrize("name", list(FILES))
def test_every_page_shows_something_with_its_defaults(name):
    at = _upload(FILES[name](), f"{name}.csv")
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        shown = len(at.main.get("dataframe")) + len(at.main.get("vega_lite_chart")) + len(at.metric)
        if page == "pages/monitoring.py" and name == "no time, 0-100 score":
            assert any("time" in i.value for i in at.info) or any("time" in c.value for c in at.caption), page
        else:
            assert shown > 0, page
