"""The app on a folder beyond memory: every page, and every page's own DuckDB step, timed in Chromium. Markdown.

Uses ``bench_engines``' generated hive-partitioned Parquet folder (generated when absent). Starts ``streamlit run
app.py`` with ``MLIMPACT_DATA_DIRS`` set to its root, then in one Chromium page:

1. opens the folder from the sidebar ("Open data on the server"): above the memory budget, the Overview counts
   its summary on DuckDB (columns inferred), with its progress shown, timed from the click to the metrics;
2. visits every page (click to idle: each shows its part of the kept summary and its own button) and presses
   the page's button: weak slices (Segments), lanes (Difficulty), the most confident mistakes (Review), the
   value with cost of a miss = amount (Impact), the models side by side (Compare), a weekly series (Monitoring),
   each timed from the click to the app being idle with its result shown;
3. on the Large data page: the summary with the six segment columns named.

Goal (issue): every page idle within 10 s of opening it; the engine steps show their progress while they run.

    .venv/bin/python bench/bench_large_app.py                   # 100,000,000 rows (the folder: ~4 min once)
    .venv/bin/python bench/bench_large_app.py --rows 10000000 --shots /tmp/large_shots
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import bench_engines as be  # noqa: E402
import bench_live as bl  # noqa: E402
import bench_scale as bs  # noqa: E402

PAGE_GOAL_S = 10.0
SEGMENTS = ", ".join(name for name, _ in be.SEGMENTS)
#: page → (its DuckDB step, the button, text shown when done)
STEPS = {"Segments": ("Weak slices (inferred columns, level ≤ 3)", "Find weak slices on DuckDB", "Slices found"),
         "Difficulty": ("Difficulty lanes", "Count the lanes on DuckDB", "go to review"),
         "Review": ("50 most confident mistakes", "Fetch the 50 most confident mistakes", None),
         "Impact": ("Business value (cost of a miss = amount)", "Compute the value on DuckDB",
                    "value-maximising threshold"),
         "Compare": ("Models side by side (per first segment)", "Compare the models on DuckDB", "Models compared"),
         "Monitoring": ("Weekly recall", "Compute over time on DuckDB", None)}


async def run(root: Path, folder: str, shots: str | None) -> dict:
    from playwright.async_api import async_playwright

    os.environ["MLIMPACT_DATA_DIRS"] = str(root)
    res: dict = {"pages": {}, "steps": {}, "errors": {}}
    with bs.Server(200, os.path.join(tempfile.gettempdir(), "bench_large_app.log")) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
            page = await (await browser.new_context(viewport=bs.VIEWPORT)).new_page()
            page.set_default_timeout(bs.PAGE_TIMEOUT_MS)
            await page.goto(server.url)
            await page.get_by_test_id("stMetricValue").first.wait_for()
            await bs.wait_idle(page)
            side = page.get_by_test_id("stSidebar")
            bl.log("app open; choosing 'Open data on the server'")
            await side.get_by_role("combobox", name="Data", exact=True).click()
            res["open_s"] = await bl.timed(page, page.get_by_role("option", name="Open data on the server").click)
            bl.log(f"typing {folder} in the sidebar")
            await side.get_by_role("textbox", name="Path under the data folders").fill(folder)
            res["server_open_s"] = await bl.timed(
                page, side.get_by_test_id("stBaseButton-secondaryFormSubmit").click, start_limit_s=60)
            res["sidebar_says"] = (await side.inner_text())[-400:]
            main = page.get_by_test_id("stMain")
            for name in (await bs.nav_names(page)):
                label = page.get_by_test_id("stMarkdownContainer").get_by_text(name, exact=True)
                link = side.get_by_test_id("stPageLink-NavLink").filter(has=label)
                res["pages"][name] = await bl.timed(page, link.click, start_limit_s=60)
                res["errors"][name] = await bs.page_errors(page)
                bl.log(f"page {name}: {res['pages'][name]:.2f} s")
                if name in STEPS:
                    step, button, shown = STEPS[name]
                    res["steps"][f"{name}: {step}"] = await bl.timed(
                        page, main.get_by_role("button", name=button).click, start_limit_s=60)
                    if shown:
                        await main.get_by_text(shown).first.wait_for()
                    bl.log(f"{step}: {res['steps'][f'{name}: {step}']:.1f} s")
                if shots:
                    await bs.screenshot(page, os.path.join(shots, f"large_{bs.slug(name)}.png"), max_height=12000)
            await main.get_by_role("textbox", name="Segment columns, comma-separated (empty: inferred)").fill(SEGMENTS)
            res["steps"]["Large data: summary with the six segment columns"] = await bl.timed(
                page, main.get_by_role("button", name="Summarize on DuckDB").click, start_limit_s=60)
            res["step_errors"] = await bs.page_errors(page)
            res["server_peak"] = server.peak_rss()
            if shots:
                await bs.screenshot(page, os.path.join(shots, "large_data_all.png"), max_height=12000)
            await browser.close()
    return res


def markdown(res: dict, rows: int, code: str, load: tuple[str, str]) -> str:
    worst = max(res["pages"].values())
    out = [f"### The app on a {rows:,}-row Parquet folder (Chromium, `{code}`, load {load[0]} → {load[1]})\n",
           f"Opening the folder from the sidebar: {res['server_open_s']:.1f} s to the Overview's metrics (above the "
           "memory budget: the summary, inferred columns, counted on DuckDB with its progress shown).\n",
           "| page | click to idle (s) | errors |", "|---|---:|---|"]
    for name, s in res["pages"].items():
        said = "; ".join(a[:90] for a in res["errors"].get(name, [])) or "–"
        out.append(f"| {name} | {s:.2f} | {said} |")
    out.append(f"\nEvery page idle within {PAGE_GOAL_S:.0f} s of opening it: "
               f"{'**met**' if worst <= PAGE_GOAL_S else '**missed**'} (slowest {worst:.2f} s).\n")
    out += ["| page: DuckDB step | click to result (s) |", "|---|---:|"]
    out += [f"| {label} | {s:.1f} |" for label, s in res["steps"].items()]
    out.append(f"\nServer peak RSS: {res['server_peak'] / bs.MiB:,.0f} MiB. Errors after the steps: "
               f"{res['step_errors'] or 'none'}.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--root", default="/tmp/mlimpact_bench")
    parser.add_argument("--shots", default=None, help="keep a screenshot of every page here")
    args = parser.parse_args(argv)
    if args.shots:
        os.makedirs(args.shots, exist_ok=True)
    data = be.ensure_data(Path(args.root), args.rows)
    before = be.load_average()
    res = asyncio.run(run(Path(args.root), Path(data["folder"]).name, args.shots))
    print(markdown(res, args.rows, be.code_version(), (before, be.load_average())))
    errors = res["step_errors"] or any(res["errors"].values())
    return 0 if max(res["pages"].values()) <= PAGE_GOAL_S and not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
