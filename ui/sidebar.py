"""The sidebar every page shares: data source, column roles and threshold.

Every page calls :func:`current` (or :func:`require_dataset`) first, once per run. The frame
is rendered by the page, not by ``app.py``: while a folder named ``pages/`` exists, Streamlit
runs a deep-linked page on a fresh server *without* ``app.py``, and AppTest re-runs skip
``app.py`` after the first run (both reproduced, see README "Design notes"). Rendering the
frame from the page makes both paths identical. What the widgets choose is kept under the
app's own session keys (:mod:`ui.state`) and fed back as their defaults, so choices survive
page switches even though each page owns its widget instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mlimpact.engine.server import server_options
from mlimpact.errors import InputError
from mlimpact.io import (
    DEFAULT_SAMPLE,
    SAMPLES,
    TASKS,
    Dataset,
    Roles,
    normalize_labels,
    sample_path,
)
from mlimpact.io.decision import DEFAULT_THRESHOLD, threshold_scale
from mlimpact.io.load import Source, dataset_of, read_source

from . import (
    context,
    large_views,
    links,
    meeting,
    nav,
    report_buttons,
    safe,
    server_source,
    share,
    slice_panel,
    state,
    store,
)

UPLOAD_CHOICE = "upload"
UPLOAD_TYPES = ["csv", "tsv", "txt", "gz", "zip", "parquet", "xlsx"]
NONE = "(none)"


@dataclass
class SidebarState:
    """What every page needs: the source, the Dataset (or why there is none) and the threshold."""

    source: Source | None
    dataset: Dataset | None
    threshold: float
    error: str | None = None
    threshold_why: str | None = None  # how the threshold was chosen, for the page's columns line


def current() -> SidebarState:
    """Render the shared frame in the sidebar and return the current data. Call once per page run."""
    return render()


def require_dataset(page: str) -> tuple[Dataset, SidebarState]:
    """The Dataset for pages that need one; otherwise the page's answer counted on DuckDB (a server source above
    the memory budget), or why there is nothing to show; then the page stops. ``page``: its file's stem."""
    fs = current()
    if fs.dataset is None:
        explain_and_stop(fs, page)
    rows = slice_panel.active_rows(fs.dataset)  # every page honours the active slice
    context.show(fs.source, fs.dataset, fs.threshold, fs.threshold_why)
    slice_panel.banner(fs.dataset, rows, fs.threshold)
    return rows, fs


def explain_and_stop(fs: SidebarState, page: str) -> None:
    """Say why there is nothing to show (the file's error, or how to begin), or show the page counted on DuckDB
    when the source is larger than memory; then stop the page."""
    if not fs.error and large_views.active():
        large_views.render(page)
    else:
        explain(fs)
    st.stop()


def explain(fs: SidebarState) -> None:
    """Say why the sidebar has no data: the file's error, or how to begin."""
    if fs.error:
        safe.error(fs.error)
    else:
        st.info("Pick a sample or upload a predictions file in the sidebar to begin.", icon=":material/upload_file:")


# ----------------------------------------------------------------------------- loading
def _load_sample(key: str) -> tuple[Source, store.FileStore]:
    path = sample_path(key)
    if not path.exists():
        raise InputError(f"sample file {path.name} is missing; run `python scripts/make_sample_data.py`")
    shared = store.for_sample(key)
    return shared.load(lambda: read_source(path, is_sample=True)), shared


def _load_uploads(files) -> tuple[Source, store.FileStore]:
    items = [(f.name, f.getvalue()) for f in files]
    shared = store.for_upload(items)  # sessions that sent the very same bytes parse them once
    return shared.load(lambda: read_source(items)), shared


def _source_widget(controls: bool) -> str:
    server = server_options().available
    options = list(SAMPLES) + [UPLOAD_CHOICE] + ([server_source.CHOICE] if server else [])
    labels = {k: f"Sample: {s.title}" for k, s in SAMPLES.items()} | {UPLOAD_CHOICE: "Upload my files",
                                                                      server_source.CHOICE: server_source.LABEL}
    saved = st.session_state.get(state.SOURCE)
    if saved is None:  # a session's first run: the link decides, else the default sample
        saved = share.pending("sample") or (UPLOAD_CHOICE if share.pending("src") == "upload" else DEFAULT_SAMPLE)
    if not controls:
        st.session_state[state.SOURCE] = saved
        return saved
    choice = st.selectbox("Data", options, index=options.index(saved) if saved in options else 0,
                          format_func=labels.__getitem__, key=state.SOURCE_WIDGET)
    st.session_state[state.SOURCE] = choice
    return choice


def _select_source(choice: str, controls: bool = True) -> Source | None:
    """Load the chosen source (once per content) and make it current."""
    if choice == server_source.CHOICE:
        return server_source.select(server_options(), controls)
    if choice != UPLOAD_CHOICE:
        key = ("sample", choice)
        if st.session_state[state.UPLOAD_KEY] != key or state.current_source() is None:
            with st.spinner(f"Loading the {SAMPLES[choice].title} sample…"):
                source, shared = _load_sample(choice)
            state.remember_loaded(source, shared)
            st.session_state[state.UPLOAD_KEY] = key
        return state.current_source()
    last = st.session_state[state.UPLOAD_KEY]
    in_use = state.current_source() if last and last[:1] != ("sample",) else None
    if not controls:
        return in_use
    files = st.file_uploader(
        "Prediction files", type=UPLOAD_TYPES, accept_multiple_files=True, key=state.uploader_key(),
        help="CSV/TSV (also gzip or zip), Parquet or Excel. Several files with the same columns are stacked; "
             "files with different columns are joined on a shared id column.")
    limit = st.get_option("server.maxUploadSize")
    if server_options().available:
        st.caption(f"Files over {limit} MB: put them in the server's data folder and choose "
                   f"\"{server_source.LABEL}\" above (or the Large data page), or run the command line on them: "
                   "`python -m mlimpact summarize FILE`.")
    else:
        st.caption(f"Files over {limit} MB: run the command line on them instead (it reads any size, folders too, "
                   "on DuckDB beyond memory): `python -m mlimpact summarize FILE`. To open them here, the server's "
                   "administrator sets MLIMPACT_DATA_DIRS.")
    if not files:
        if in_use is not None:  # each page has its own (empty) uploader; the upload stays in use
            st.caption(safe.md_escape(f"In use: {in_use.name} (uploaded). Upload again to replace it."))
        return in_use
    key = tuple((f.name, f.file_id) for f in files)
    if st.session_state[state.UPLOAD_KEY] != key:
        with st.spinner("Reading the upload…"):
            source, shared = _load_uploads(files)
        state.remember_loaded(source, shared)
        st.session_state[state.UPLOAD_KEY] = key
        _release_upload_bytes(files)
        st.rerun()  # draw the fresh, empty uploader now, so a file added next is never added to the old one
    return state.current_source()


def _release_upload_bytes(files) -> None:
    """Drop Streamlit's copy of the uploaded bytes once they are parsed (1× the file per session, kept until the
    session is shut down otherwise), and give the uploader a new key: it shows empty, with "In use: …" beneath,
    as on every other page. More files are added by choosing them all again (stacked or joined as one upload)."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        for f in files:
            ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=f.file_id)
    state.next_uploader()


# ----------------------------------------------------------------------------- roles
def _pick(label: str, options: list[str], default: str | None, key: str, help: str | None = None) -> str | None:
    opts = [NONE] + options
    index = opts.index(default) if default in opts else 0
    value = st.selectbox(label, opts, index=index, key=key, help=help)
    return None if value == NONE else value


def _roles_widgets(source: Source, controls: bool = True) -> Roles:
    h = source.content_hash[:12]
    guess = source.guess.roles
    saved: Roles = st.session_state[state.ROLES].get(source.content_hash, guess)
    if not controls:
        return saved
    cols = [str(c) for c in source.frame.columns]
    with st.expander("Columns and task", expanded=False):
        label = _pick("Label (true outcome)", cols, saved.label, f"role_label_{h}")
        task_opts = list(TASKS)
        task = st.selectbox("Task", task_opts, index=task_opts.index(saved.task) if saved.task in task_opts else 0,
                            key=f"role_task_{h}")
        positive = None
        if task == "binary" and label is not None:
            values = state.memo(("label_values", source.content_hash, label),  # once per file, not every run
                                lambda: tuple(sorted(normalize_labels(source.frame[label]).dropna().unique().tolist())[:50]))
            if values:
                default = saved.positive if saved.positive in values else values[-1]
                positive = st.selectbox("Positive class", values, index=values.index(default), key=f"role_pos_{h}")
        score = _pick("Score (model output)", cols, saved.score, f"role_score_{h}",
                      help="A probability or any real-valued score; binary rows are flagged when score ≥ threshold.")
        prediction = _pick("Predicted class / value", cols, saved.prediction, f"role_pred_{h}")
        segments = st.multiselect("Segment columns", cols, default=[c for c in saved.segments if c in cols],
                                  key=f"role_segments_{h}")
        time = _pick("Time", cols, saved.time, f"role_time_{h}")
        id_col = _pick("Id", cols, saved.id, f"role_id_{h}")
        amount = _pick("Amount (money per row)", cols, saved.amount, f"role_amount_{h}")
        other = st.multiselect("Other models' scores", cols, default=[c for c in saved.other_scores if c in cols],
                               key=f"role_other_{h}")
        class_scores = saved.class_scores
        uncertainty = saved.uncertainty
        if task == "multiclass":
            class_scores = tuple(st.multiselect("Class probability columns", cols,
                                                default=[c for c in saved.class_scores if c in cols],
                                                key=f"role_classes_{h}"))
        if task == "regression":
            uncertainty = _pick("Uncertainty (std. dev.)", cols, saved.uncertainty, f"role_unc_{h}")
    roles = Roles(label=label, score=score, prediction=prediction, class_scores=tuple(class_scores),
                  segments=tuple(segments), time=time, id=id_col, amount=amount, other_scores=tuple(other),
                  uncertainty=uncertainty, task=task, positive=positive)
    st.session_state[state.ROLES][source.content_hash] = roles
    return roles


def _dataset(source: Source, roles: Roles) -> Dataset:
    return state.dataset(source, roles, lambda: dataset_of(source, roles))


def _threshold_widget(source: Source, dataset: Dataset, controls: bool = True) -> tuple[float, str | None]:
    """The threshold slider (binary scores), and how its value was chosen."""
    saved = st.session_state[state.THRESHOLD]
    key = f"threshold_{source.content_hash[:12]}"
    if dataset.task != "binary" or dataset.score is None or not controls:
        return saved.get(source.content_hash, DEFAULT_THRESHOLD), None
    scale = threshold_scale(dataset.score, probabilities=dataset.scores_are_probabilities)
    start = min(max(float(saved.get(source.content_hash, scale.default)), scale.low), scale.high)
    value = st.slider("Threshold (flag when score ≥ threshold)", scale.low, scale.high, start, step=scale.step,
                      key=key)
    saved[source.content_hash] = float(value)
    return float(value), scale.why if float(value) == scale.default else "set in the sidebar"


def render() -> SidebarState:
    """Render the sidebar frame and return the current data (once per run: widget keys are fixed)."""
    nav.page_config()
    state.init()
    store.touch()  # the server is in use (ui.store's janitor frees ended sessions' stores once it is idle)
    share.read_once()
    result = SidebarState(source=None, dataset=None, threshold=DEFAULT_THRESHOLD)
    with st.sidebar:
        nav.links()
        meeting.toggle()
        controls = not meeting.is_on()  # meeting mode: navigation only; choices stay as they were
        choice = _source_widget(controls)
        try:
            source = _select_source(choice, controls)
        except InputError as exc:
            result.error = str(exc)
            source = None
        result.source = source
        if source is None and choice == UPLOAD_CHOICE and share.pending("h"):
            st.info("This link shows a view of an uploaded file (content hash "
                    f"{share.pending('h')[:16]}…). Upload the same file to restore it.", icon=":material/link:")
        if source is not None:
            share.apply_link(source)
            links.apply_lanes(source.content_hash)
            slice_panel.apply_link(source.content_hash)
            roles = _roles_widgets(source, controls)
            try:
                dataset = _dataset(source, roles)
            except InputError as exc:
                result.error = str(exc)
                dataset = None
            result.dataset = dataset
            if dataset is not None:
                result.threshold, result.threshold_why = _threshold_widget(source, dataset, controls)
                if controls:
                    used = f"{dataset.n:,} of {dataset.n_total:,} rows used"
                    if dataset.n_excluded:
                        used += f" ({dataset.n_excluded:,} excluded; see Data)"
                    st.caption(used)
                    report_buttons.show(source, dataset, result.threshold)
                    slice_panel.panel(dataset)
            else:
                st.warning("These columns cannot be analysed yet: see the message on the page.",
                           icon=":material/warning:")
    for notice in share.pop_notices():
        safe.warning(notice)
    _publish(result, choice)
    return result


# ----------------------------------------------------------------------------- links
def _publish(result: SidebarState, choice: str) -> None:
    """Write the frame's part of the view into the address bar."""
    values: dict[str, object] = {"sample": choice if choice not in (UPLOAD_CHOICE, server_source.CHOICE) else None,
                                 "src": "upload" if choice == UPLOAD_CHOICE else None,
                                 "meeting": True if meeting.is_on() else None}
    source, dataset = result.source, result.dataset
    values["h"] = source.content_hash[:16] if source is not None else share.pending("h")
    if source is not None:
        guess = source.guess.roles
        roles = st.session_state[state.ROLES].get(source.content_hash, guess)
        for key in share.ROLE_PARAMS:
            current = getattr(roles, key)
            values[key] = current if current != getattr(guess, key) else None
        values["seg"] = roles.segments if roles.segments != guess.segments else None
        values["other"] = roles.other_scores if roles.other_scores != guess.other_scores else None
        values["lanes"] = links.lanes_param(source.content_hash)
        values["slices"], values["slice"] = slice_panel.link_value(source.content_hash)
    if dataset is not None and dataset.task == "binary" and dataset.score is not None:
        values["t"] = round(result.threshold, 6)
    else:
        values["t"] = None
    share.publish(values)

