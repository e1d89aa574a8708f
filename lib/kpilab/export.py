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
    """CSV as UTF-8 with BOM (so Excel on Chinese Windows reads it), formulas neutralised."""
    return neutralise(frame).to_csv(index=False).encode("utf-8-sig")
