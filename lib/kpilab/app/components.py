"""Reusable page parts: definition cards, notes, downloads, and the error boundary."""

from __future__ import annotations

import contextlib
import logging
import math

import narwhals.stable.v2 as nw
import streamlit as st

from kpilab.app import state
from kpilab.app.i18n import t, tl
from kpilab.engine import Comparison, missing_inputs
from kpilab.export import to_csv_bytes
from kpilab.formatting import format_value
from kpilab.registry import Kpi, KpiError, Note

log = logging.getLogger("kpilab.app")


@contextlib.contextmanager
def guarded(what: str):
    """Show a clear message instead of a traceback; log the details for the developers."""
    try:
        yield
    except KpiError as exc:
        st.warning(f"{what}: {exc}")
    except Exception as exc:  # a page must never show a traceback
        log.exception("%s failed", what)
        st.error(t(f"{what} could not be computed on this dataset ({type(exc).__name__}: {exc}). "
                   "Check the Data page's validation report.",
                   f"{what} 无法在此数据集上计算 ({type(exc).__name__}: {exc})。请查看数据页的校验报告。"))


@contextlib.contextmanager
def progress(label: str):
    """A progress bar for long library work: yields a ``progress(share, text)`` callback to pass
    to the library. The bar appears at the first report (nothing is drawn when the result is
    cached) and is removed when the work ends. Each report is a Streamlit update, which is where
    a rerun (the user changed an input) stops the work: nothing blocks cancelling it."""
    slot = st.empty()

    def report(share: float, text: str = "") -> None:
        slot.progress(min(max(float(share), 0.0), 1.0), f"{label} {text}".strip())

    try:
        yield report
    except Exception:       # an error message replaces the bar; a rerun (not an Exception) clears the page itself
        slot.empty()
        raise
    slot.empty()


def chart(builder, *args, **kwargs) -> None:
    """Draw ``builder(*args, **kwargs)`` (a kpilab.charts builder) with its Vega-Lite spec cached
    per server on the inputs (``state.chart_spec``), the app's look (theme=None), full width."""
    spec = state.chart_spec(builder, args, kwargs)
    if spec is None:
        st.altair_chart(builder(*args, **kwargs), theme=None, width="stretch")
    else:
        st.vega_lite_chart(spec, theme=None, width="stretch")


def kpi_available(kpi: Kpi, dataset) -> bool:
    """False (with a message naming what is missing) when the dataset cannot feed this KPI."""
    missing = missing_inputs(kpi, dataset)
    if missing:
        st.info(t(f"{kpi.name.en} needs {', '.join(missing)}; this dataset does not have it. "
                  "Add it on the Data page.",
                  f"{kpi.name.zh} 需要 {', '.join(missing)}, 当前数据集没有。请在数据页补充。"))
    return not missing


def definition_cards(cmp: Comparison, references: bool = True) -> None:
    """One card per definition: value, formula, what it says, when to prefer it, reference level."""
    kpi = cmp.kpi
    cols = st.columns(len(cmp.results))
    for col, (def_id, result) in zip(cols, cmp.results.items()):
        d = kpi.definition(def_id)
        unit = kpi.unit_of(d)
        value = result.value
        with col, st.container(border=True):
            ref = next(iter(d.references), None) if references else None
            delta = None
            if ref is not None and not (isinstance(value, float) and math.isnan(value)):
                gap = (f"{(value - ref.value) * 100:+.1f} {t('pts', '个百分点')}" if unit in ("share", "ratio")
                       else format_value(value - ref.value, unit))
                delta = f"{gap} {t('vs', '对比')} {format_value(ref.value, unit)} ({tl(ref.label)})"
            st.metric(tl(d.name), format_value(value, unit), delta=delta,
                      delta_color="normal" if kpi.direction_of(d) == "higher" else
                      ("inverse" if kpi.direction_of(d) == "lower" else "off"),
                      help=d.formula)
            st.caption(f"`{d.formula}`")
            st.markdown(f"**{t('Says', '含义')}:** {tl(d.says)}")
            st.markdown(f"**{t('Prefer when', '适用')}:** {tl(d.prefer_when)}")


def notes(cmp: Comparison) -> None:
    """Every note the library wrote (rows left out, zero weights, months not judged)."""
    seen = []
    for result in cmp.results.values():
        seen += [n for n in result.notes if n not in seen]
    for note in seen:
        st.caption(f"ℹ️ {note_text(note)}")


def note_text(note) -> str:
    """A library note in the session's language (notes without a translation read in English)."""
    return tl(note) if isinstance(note, Note) else str(note)


def download(frame, label: str, file_name: str, key: str) -> None:
    """A CSV download (UTF-8 with BOM, formulas neutralised) that does not rerun the page."""
    st.download_button(f"⬇ {label}", data=lambda: to_csv_bytes(frame), file_name=file_name,
                       mime="text/csv", key=key, on_click="ignore")


def table(frame, key: str | None = None, height: int | None = None) -> None:
    st.dataframe(nw.from_native(frame, eager_only=True).to_pandas(), hide_index=True,
                 width="stretch", height=height or "auto", key=key)
