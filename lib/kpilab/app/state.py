"""Session state, the chosen dataset and the cached library calls — caching lives only here.

The dataset is chosen in the sidebar and kept in the URL (``?data=sample&lang=zh``) so a deep
link reopens the same data and language.

Work is shared across sessions, privacy is not: every cache is server-wide and keyed on the
dataset's content fingerprint and the parameters (not on Streamlit's sampled frame hash, see
pitfalls), so a room of 30 opening the same page computes each result once. Results are held
with ``st.cache_resource`` — one object handed to every session, never a pickled copy per hit
(copying big results was most of a fresh session's cost) — and are never modified in place.
An upload stays with the session that made it: its Dataset is kept in that session's state,
and a link naming another session's upload shows the sample. Two sessions that upload the same
bytes get the same fingerprint, so only then do they share computed results.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import fields
from functools import cached_property
from typing import Callable

import narwhals.stable.v2 as nw
import streamlit as st

import kpilab
from kpilab.app.i18n import t
from kpilab.dataset import Dataset

log = logging.getLogger("kpilab.app")
SAMPLE = "sample"
_MAX_UPLOADS = 4                # per session
_UPLOADS = "_kpilab_uploads"    # session_state key: this session's uploads, fingerprint → Dataset
Progress = Callable[[float, str], None]


def init() -> None:
    """Defaults for the session, read from the URL where given; a link naming an upload that is
    not this session's (another tab or person, or a restarted server) falls back to the sample
    with a message — before the sidebar's dataset widget is drawn."""
    query = st.query_params
    if "lang" not in st.session_state:
        st.session_state["lang"] = query.get("lang", "en") if query.get("lang") in ("en", "zh") else "en"
    if "data" not in st.session_state:
        st.session_state["data"] = query.get("data", SAMPLE)
    if st.session_state["data"] != SAMPLE and st.session_state["data"] not in _own_uploads():
        st.warning(t("The uploaded dataset of this link is not available in this session (uploads stay private "
                     "to the session that made them, and are gone after a restart): showing the sample. Upload "
                     "it again on the Data page.",
                     "链接中的上传数据在此会话中不可用 (上传数据只属于上传它的会话, 服务器重启后也会清除), 显示示例数据; "
                     "请在数据页重新上传。"))
        st.session_state["data"] = SAMPLE
    sync_query()


def sync_query() -> None:
    """Keep the language and dataset in the URL so links reopen the same view."""
    for key in ("lang", "data"):
        if st.query_params.get(key) != st.session_state[key]:
            st.query_params[key] = st.session_state[key]


@st.cache_resource(show_spinner="Loading the sample dataset…")
def sample() -> Dataset:
    return kpilab.load_sample()


def _own_uploads() -> OrderedDict:
    return st.session_state.setdefault(_UPLOADS, OrderedDict())


def register_upload(dataset: Dataset) -> None:
    """Keep an uploaded dataset in this session (only) and make it the session's choice.

    Use it as a widget callback: it sets the sidebar's dataset widget, which a script run may
    only do before that widget is drawn."""
    own = _own_uploads()
    own[dataset.fingerprint] = dataset
    own.move_to_end(dataset.fingerprint)
    while len(own) > _MAX_UPLOADS:
        own.popitem(last=False)
    st.session_state["data"] = dataset.fingerprint
    sync_query()


def uploaded() -> list[Dataset]:
    """This session's uploads (never another session's)."""
    return list(_own_uploads().values())


def dataset() -> Dataset:
    """The session's dataset: one of its own uploads, else the sample (``init`` has already said
    so when a link named an upload this session does not have)."""
    found = _own_uploads().get(st.session_state.get("data", SAMPLE))
    return found if found is not None else sample()


class SharedComparison(kpilab.Comparison):
    """A Comparison handed to every session that asks for the same dataset, KPI and parameters.

    ``wide()`` is built once per server and copied per call (a page may modify its copy);
    ``cache_key`` identifies it in other cache keys without hashing its frames."""

    @classmethod
    def of(cls, cmp: kpilab.Comparison, key: tuple) -> "SharedComparison":
        shared = cls(**{f.name: getattr(cmp, f.name) for f in fields(cmp) if f.init})
        object.__setattr__(shared, "cache_key", key)
        return shared

    @cached_property
    def _wide(self):
        return super().wide()

    def wide(self):
        return nw.from_native(self._wide, eager_only=True).clone().to_native()


@st.cache_resource(max_entries=256, show_spinner=False)
def _compare(fingerprint: str, kpi_id: str, definitions: tuple[str, ...] | None, by: tuple[str, ...],
             params: tuple, _dataset: Dataset) -> SharedComparison:
    return SharedComparison.of(kpilab.compare(_dataset, kpi_id, definitions, by=by, **dict(params)),
                               (fingerprint, kpi_id, definitions, by, params))


def compare(kpi_id: str, definitions=None, by=(), **params) -> kpilab.Comparison:
    """kpilab.compare on the session's dataset, computed once per server for the same dataset
    fingerprint and parameters; every session gets the same (read-only) result."""
    ds = dataset()
    return _compare(ds.fingerprint, kpi_id, tuple(definitions) if definitions else None, tuple(by),
                    tuple(sorted(params.items())), ds)


@st.cache_resource(max_entries=128, show_spinner=False,
                   hash_funcs={SharedComparison: lambda c: c.cache_key})
def _derive(fingerprint: str, name: str, args: tuple, _fn, _dataset: Dataset):
    return _fn(_dataset, *args)


def derive(name: str, fn, *args, progress: Progress | None = None):
    """Cache any library function of (dataset, *args) — e.g. a sweep or a cross-tab — on the
    dataset's fingerprint, once per server; ``name`` identifies the function in the cache key.
    The value is shared by every session: read it, never modify it in place.

    With ``progress`` (a long computation that reports steps), ``fn`` is called with
    ``progress=`` and the value is kept in a cache of our own: Streamlit's caches would record
    the progress bar's updates and fail to replay them on the next hit."""
    ds = dataset()
    if progress is None:
        return _derive(ds.fingerprint, name, args, fn, ds)
    return _LONG.get((ds.fingerprint, name, _content_key(args)), lambda: fn(ds, *args, progress=progress),
                     progress)


@st.cache_resource(max_entries=64, show_spinner=False)
def _coverage(fingerprint: str, lang: str, _dataset: Dataset):
    from kpilab.engine import coverage as library_coverage

    return library_coverage(_dataset, lang)


def coverage(ds: Dataset, lang: str):
    """Which KPIs ``ds`` can feed (``engine.coverage``), once per server and language (a copy)."""
    return _coverage(ds.fingerprint, lang, ds).copy()


class _Once:
    """A bounded server-wide LRU whose values are built once per key, even when sessions ask at
    the same moment: the others wait, polling every 0.1 s and reporting through their progress
    callback (a Streamlit element update, so a rerun can still interrupt the wait). A build that
    fails (or is interrupted) stores nothing; the next caller builds again."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict = {}

    def get(self, key, build, progress: Progress | None = None):
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
                lock = self._building.setdefault(key, threading.Lock())
            if lock.acquire(timeout=0.1):
                break
            if progress is not None:
                progress(0.0, t("Another session is preparing the same result…", "另一个会话正在准备相同的结果…"))
        try:
            with self._lock:
                if key in self._items:          # built while we waited
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
            return value
        finally:
            lock.release()
            with self._lock:
                if self._building.get(key) is lock:
                    del self._building[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_LONG = _Once(64)        # long derived values (translator bootstrap …)
_CHARTS = _Once(512)     # Vega-Lite specs of charts, as JSON text
_LOADS = _Once(4)        # uploaded files read, mapped and validated


def _content_key(value):
    """A hashable key for cache arguments: frames by a hash of their content, containers item by
    item, shared comparisons by their own key."""
    if isinstance(value, SharedComparison):
        return ("comparison", value.cache_key)
    if isinstance(value, (tuple, list)):
        return tuple(_content_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _content_key(v)) for k, v in value.items()))
    frame = nw.from_native(value, eager_only=True, pass_through=True)
    if isinstance(frame, (nw.DataFrame, nw.Series)):
        import pandas as pd

        native = frame.to_pandas()
        names = list(native.columns) if isinstance(frame, nw.DataFrame) else [native.name]
        digest = hashlib.sha256(repr(names).encode())
        digest.update(pd.util.hash_pandas_object(native, index=False).to_numpy().tobytes())
        return ("frame", digest.hexdigest())
    return value


def chart_spec(builder, args: tuple, kwargs: dict) -> dict | None:
    """The Vega-Lite spec of ``builder(*args, **kwargs)`` (a kpilab.charts builder), built once per
    server for the same inputs (frames by content): building an Altair chart and converting it
    was most of a fresh session's time once the numbers are cached. Each call gets its own copy
    (parsed from JSON text); None when the chart's data is over Altair's 5,000-row limit for
    inline data (then draw the chart itself)."""
    import json

    import altair as alt

    def build() -> str | None:
        try:
            return json.dumps(builder(*args, **kwargs).to_dict())
        except alt.MaxRowsError:
            return None

    key = (dataset().fingerprint, builder.__module__, builder.__qualname__, _content_key(args), _content_key(kwargs))
    text = _CHARTS.get(key, build)
    return None if text is None else json.loads(text)


def load_upload(files: tuple[tuple[str, bytes], ...], mapping_json: str | None, encoding: str | None,
                date_formats: tuple, progress: Progress | None = None) -> Dataset:
    """Read, map and validate uploaded files, reporting each step through ``progress(share, text)``;
    kept per server on a hash of their bytes and the chosen options (only a session holding the
    same bytes can ask for it)."""
    digest = hashlib.sha256(repr((mapping_json, encoding, date_formats)).encode())
    for name, data in files:
        digest.update(name.encode())
        digest.update(hashlib.sha256(data).digest())
    return _LOADS.get(digest.hexdigest(), lambda: _load(files, mapping_json, encoding, date_formats, progress),
                      progress)


def _load(files, mapping_json, encoding, date_formats, progress: Progress | None) -> Dataset:
    """The steps of ``kpilab.load_dataset`` on uploads, one progress step each."""
    from kpilab.mapping import ColumnMapping
    from kpilab.reading import read_dataset

    report = progress or (lambda share, text: None)
    report(0.05, t(f"Reading {len(files)} file(s)…", f"正在读取 {len(files)} 个文件…"))
    raw = read_dataset(list(files), encoding=encoding)
    grain = "auto"
    if mapping_json:
        report(0.4, t("Mapping columns…", "正在映射列名…"))
        mapping = ColumnMapping.from_json(mapping_json)
        raw, grain = mapping.apply(raw), mapping.grain or "auto"
    report(0.5, t("Validating every table…", "正在校验所有表…"))
    formats: dict[str, dict[str, str]] = {}
    for table, column, fmt in date_formats:
        formats.setdefault(table, {})[column] = fmt
    name = files[0][0] if len(files) == 1 else f"{files[0][0]} +{len(files) - 1}"
    dataset = Dataset.from_frames(raw.tables, name, date_formats=formats or None, notes=tuple(raw.notes),
                                  grain=grain)
    report(1.0, t("Read and validated.", "读取并校验完成。"))
    return dataset


def open_server_path(path: str, engine: str, progress: Progress | None = None) -> Dataset:
    """A dataset on the server (Parquet folder or .duckdb file under an allowed root), opened in
    place; built once per server for the same path, engine and file times."""
    from kpilab.server_data import check_path

    checked = check_path(path)
    stamp = max((f.stat().st_mtime_ns for f in [checked, *checked.rglob("*")]), default=0)
    key = hashlib.sha256(repr((str(checked), engine, stamp)).encode()).hexdigest()

    def build() -> Dataset:
        report = progress or (lambda share, text: None)
        report(0.1, t(f"Opening {checked.name} on {engine}…", f"正在以 {engine} 打开 {checked.name}…"))
        dataset = kpilab.load_dataset(checked, engine=engine)
        report(1.0, t("Read and validated.", "读取并校验完成。"))
        return dataset
    return _LOADS.get(key, build, progress)


@st.cache_data(max_entries=4, show_spinner=False)
def read_upload(files: tuple[tuple[str, bytes], ...], encoding: str | None):
    """The uploaded files as read (before mapping), to propose a column mapping."""
    from kpilab.reading import read_dataset

    return read_dataset(list(files), encoding=encoding)
