"""Downloads open safely in Excel: formulas neutralised, UTF-8 with BOM, line breaks kept inside cells."""

import io

import pandas as pd

from kpilab.export import neutralise, to_csv_bytes


def test_text_formulas_are_neutralised_numbers_are_not():
    frame = pd.DataFrame({"=cmd": ["=1+1", "+sum", "-x", "@a", "\tt", "ok"], "n": [-1, 2, 3, 4, 5, 6]})
    out = neutralise(frame)
    assert list(out.columns) == ["'=cmd", "n"]
    assert list(out["'=cmd"]) == ["'=1+1", "'+sum", "'-x", "'@a", "'\tt", "ok"]
    assert list(out["n"]) == [-1, 2, 3, 4, 5, 6]


def test_csv_has_a_bom_and_reads_back_with_line_breaks():
    frame = pd.DataFrame({"comment": ["第一行\r\n第二行", "plain"], "value": [0.1, -2.0]})
    data = to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back["comment"]) == ["第一行\r\n第二行", "plain"]
    assert list(back["value"]) == [0.1, -2.0]
