"""Session state, the chosen dataset and the cached library calls — caching lives only here.

The dataset is chosen in the sidebar and kept in the URL (``?data=sample&lang=zh``) so a deep
link reopens the same data and language. Uploaded datasets are kept server-side by fingerprint,
so a link to an upload works in another tab while the server runs. Cached KPI calls are keyed
on the dataset's content fingerprint (not on Streamlit's sampled frame hash, see pitfalls).
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import streamlit as st

import kpilab
from kpilab.dataset import Dataset

log = logging.getLogger("kpilab.app")
SAMPLE = "sample"
_MAX_UPLOADS = 8


def init() -> None:
    """Defaults for the session, read from the URL where given."""
    query = st.query_params
    if "lang" not in st.session_state:
        st.session_state["lang"] = query.get("lang", "en") if query.get("lang") in ("en", "zh") else "en"
    if "data" not in st.session_state:
        st.session_state["data"] = query.get("data", SAMPLE)
    sync_query()


def sync_query() -> None:
    """Keep the language and dataset in the URL so links reopen the same view."""
    for key in ("lang", "data"):
        if st.query_params.get(key) != st.session_state[key]:
            st.query_params[key] = st.session_state[key]


@st.cache_resource(show_spinner="Loading the sample dataset…")
def sample() -> Dataset:
    return kpilab.load_sample()


@st.cache_resource
def _uploads() -> OrderedDict:
    return OrderedDict()


def register_upload(dataset: Dataset) -> None:
    """Keep an uploaded dataset (server-side, by fingerprint) and make it the session's choice.

    Use it as a widget callback: it sets the sidebar's dataset widget, which a script run may
    only do before that widget is drawn."""
    store = _uploads()
    store[dataset.fingerprint] = dataset
    store.move_to_end(dataset.fingerprint)
    while len(store) > _MAX_UPLOADS:
        store.popitem(last=False)
    st.session_state["data"] = dataset.fingerprint
    sync_query()


def uploaded() -> list[Dataset]:
    return list(_uploads().values())


def dataset() -> Dataset:
    """The session's dataset; falls back to the sample (with a message) when an upload is gone."""
    key = st.session_state.get("data", SAMPLE)
    if key != SAMPLE:
        found = _uploads().get(key)
        if found is not None:
            return found
        st.warning("The uploaded dataset of this link is no longer on the server (it was restarted): "
                   "showing the sample. Upload it again on the Data page. / 链接中的上传数据已不在服务器上, "
                   "显示示例数据; 请在数据页重新上传。")
        st.session_state["data"] = SAMPLE
        sync_query()
    return sample()


@st.cache_data(max_entries=256, show_spinner=False)
def _compare(fingerprint: str, kpi_id: str, definitions: tuple[str, ...] | None, by: tuple[str, ...],
             params: tuple, _dataset: Dataset) -> kpilab.Comparison:
    return kpilab.compare(_dataset, kpi_id, definitions, by=by, **dict(params))


def compare(kpi_id: str, definitions=None, by=(), **params) -> kpilab.Comparison:
    """kpilab.compare on the session's dataset, cached on the dataset's fingerprint."""
    ds = dataset()
    return _compare(ds.fingerprint, kpi_id, tuple(definitions) if definitions else None, tuple(by),
                    tuple(sorted(params.items())), ds)


@st.cache_data(max_entries=128, show_spinner=False)
def _derive(fingerprint: str, name: str, args: tuple, _fn, _dataset: Dataset):
    return _fn(_dataset, *args)


def derive(name: str, fn, *args):
    """Cache any library function of (dataset, *args) — e.g. a sweep or a cross-tab — on the
    dataset's fingerprint; ``name`` identifies the function in the cache key."""
    ds = dataset()
    return _derive(ds.fingerprint, name, args, fn, ds)


@st.cache_data(max_entries=4, show_spinner="Reading and validating…")
def load_upload(files: tuple[tuple[str, bytes], ...], mapping_json: str | None, encoding: str | None,
                date_formats: tuple) -> Dataset:
    """Read, map and validate uploaded files; cached on their bytes and the chosen options."""
    from kpilab.mapping import ColumnMapping

    mapping = ColumnMapping.from_json(mapping_json) if mapping_json else None
    formats: dict[str, dict[str, str]] = {}
    for table, column, fmt in date_formats:
        formats.setdefault(table, {})[column] = fmt
    name = files[0][0] if len(files) == 1 else f"{files[0][0]} +{len(files) - 1}"
    return kpilab.load_dataset(list(files), mapping=mapping, name=name, encoding=encoding,
                               date_formats=formats or None)


@st.cache_data(max_entries=4, show_spinner=False)
def read_upload(files: tuple[tuple[str, bytes], ...], encoding: str | None):
    """The uploaded files as read (before mapping), to propose a column mapping."""
    from kpilab.reading import read_dataset

    return read_dataset(list(files), encoding=encoding)
