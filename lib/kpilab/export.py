"""Files for download: CSV that Excel opens safely (UTF-8 with BOM, no live formulas)."""

from __future__ import annotations

import narwhals.stable.v2 as nw
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame) -> pd.DataFrame:
    """Prefix text cells and headers that Excel would run as a formula with an apostrophe.

    Only text is touched: a real negative number stays a number.

    >>> neutralise(pd.DataFrame({"=x": ["=1+1", "ok", -3]})).to_dict("list")
    {"'=x": ["'=1+1", 'ok', -3]}
    """
    df = nw.from_native(frame, eager_only=True).to_pandas() if not isinstance(frame, pd.DataFrame) else frame

    def fix(v):
        return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v

    out = df.copy()
    out.columns = [fix(str(c)) for c in df.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(fix).astype(object)
    return out


def to_csv_bytes(frame) -> bytes:
    """CSV as UTF-8 with BOM (so Excel on Chinese Windows reads it), formulas neutralised, CRLF
    rows (so a text cell holding a line break is quoted and reads back whole)."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


# --------------------------------------------------------------------------- added for the OKR sheet

#: XlsxWriter options: text is always written as text (never as a formula or a link).
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def unneutralise_text(value):
    """Undo ``neutralise`` on one cell: drop the apostrophe before a formula character.

    >>> unneutralise_text("'=1+1"), unneutralise_text("'quoted"), unneutralise_text(-3)
    ('=1+1', "'quoted", -3)
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def unneutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo ``neutralise`` on text cells and headers (reading back a file we wrote)."""
    out = frame.copy()
    out.columns = [unneutralise_text(str(c)) for c in frame.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(unneutralise_text).astype(object)
    return out


def to_xlsx_bytes(sheets, *, cell_format=None, column_widths=None) -> bytes:
    """An .xlsx workbook (XlsxWriter, ``strings_to_formulas=False``) with one worksheet per
    ``sheets`` entry (name → frame); text cells and headers neutralised as in ``neutralise``.

    ``cell_format(sheet, row, column) -> str | None`` may give a number format (e.g. '0.0%') per
    cell; ``column_widths`` maps sheet → {column: width}. Numbers stay numbers, NaN is blank,
    dates are date cells.
    """
    import datetime as dt
    import io
    import math

    import numpy as np
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **XLSX_OPTIONS})
    header = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True, "valign": "top"})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    formats: dict[str, object] = {}
    for sheet_name, frame in sheets.items():
        raw = frame if isinstance(frame, pd.DataFrame) else nw.from_native(frame, eager_only=True).to_pandas()
        safe = neutralise(raw)
        ws = book.add_worksheet(str(sheet_name)[:31])
        widths = (column_widths or {}).get(sheet_name, {})
        for c, name in enumerate(safe.columns):
            ws.write_string(0, c, str(name), header)
            ws.set_column(c, c, widths.get(raw.columns[c], 14))
        for r, row in enumerate(safe.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                fmt_text = cell_format(sheet_name, r - 1, raw.columns[c]) if cell_format else None
                fmt = formats.setdefault(fmt_text, book.add_format({"num_format": fmt_text})) if fmt_text else None
                if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                    ws.write_blank(r, c, None)
                elif isinstance(value, (bool, np.bool_)):
                    ws.write_boolean(r, c, bool(value))
                elif isinstance(value, (int, float, np.integer, np.floating)):
                    value = float(value) if isinstance(value, np.floating) else value
                    value = int(value) if isinstance(value, np.integer) else value
                    if isinstance(value, float) and math.isinf(value):
                        ws.write_string(r, c, "inf" if value > 0 else "-inf")
                    else:
                        ws.write_number(r, c, value, fmt)
                elif isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
                    ws.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), date_fmt)
                else:
                    ws.write_string(r, c, str(value))
        ws.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
