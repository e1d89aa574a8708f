"""OKR sheets: baselines over a month range, the checks, Excel / CSV / Markdown export and import
(with formula neutralisation), progress against a newer dataset, and the URL form."""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import re
import zipfile
import zlib

import openpyxl
import pandas as pd
import pytest

from kpilab import KpiError, okr
from kpilab.export import neutralise, unneutralise, unneutralise_text
from kpilab.lab import Variant
from tests.test_lab import planning_ds

# Three months of one SKU: Jan P 50 A 100 (1-WAPE 0.5), Feb P 300 A 300 (1.0), Mar P 100 A 200 (0.5).
#   pooled Jan–Feb: 1 − (50 + 0) / (100 + 300) = 0.875;  mean Jan–Feb: 0.75;  last Jan–Feb: 1.0
MONTHS = [("2024-01", "a", "x", 50, 100), ("2024-02", "a", "x", 300, 300), ("2024-03", "a", "x", 100, 200)]
WAPE = Variant("plan_accuracy", "wape")
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def ds(backend):
    return planning_ds(MONTHS, backend)


def test_baseline_methods(ds):
    assert okr.period_value(ds, WAPE, "2024-01", "2024-02", "pooled") == pytest.approx(0.875)
    assert okr.period_value(ds, WAPE, "2024-01", "2024-02", "mean") == pytest.approx(0.75)
    assert okr.period_value(ds, WAPE, "2024-01", "2024-02", "last") == pytest.approx(1.0)
    assert okr.period_value(ds, WAPE, "2024-01", "2024-02") == pytest.approx(0.875)     # auto → pooled for a share
    # whole range, pooled: 1 − (50 + 0 + 100) / 600 = 0.75
    assert okr.period_value(ds, WAPE, None, None, "pooled") == pytest.approx(0.75)
    assert math.isnan(okr.period_value(ds, WAPE, "2025-01", "2025-03"))
    with pytest.raises(KpiError, match="starts"):
        okr.period_value(ds, WAPE, "2024-03", "2024-01")
    assert okr.months_with_data(ds, WAPE) == ["2024-01", "2024-02", "2024-03"]


def test_auto_method_by_unit():
    assert okr.resolve_method(WAPE) == "pooled"
    assert okr.resolve_method(Variant("inventory_value", "month_end")) == "mean"
    assert okr.resolve_method(Variant("lost_sales", "historical_average"), "last") == "last"
    with pytest.raises(KpiError):
        okr.KeyResult(WAPE, 0.7, method="median")


def test_make_key_result(ds):
    kr = okr.make_key_result(ds, WAPE, 0.9, "2024-01", "2024-02", owner=" Li ", deadline="2024-12-31")
    assert kr.baseline == pytest.approx(0.875) and kr.owner == "Li" and kr.deadline == dt.date(2024, 12, 31)
    assert kr.describe() == "Plan accuracy · 1-MAPE (1 − WAPE): from 87.5% to 90.0%"


# ----------------------------------------------------------------------------- checks


def _issues(kr, objective="O"):
    sheet = okr.OkrSheet().add(objective, kr)
    return {(i.severity, i.field) for i in okr.validate(sheet, today=TODAY)}, okr.validate(sheet, today=TODAY)


def test_a_clean_key_result_has_no_warning():
    kr = okr.KeyResult(WAPE, 0.7, 0.6, "2024-01", "2024-03", owner="Li", deadline="2024-12-31")
    found, _ = _issues(kr)
    assert found == set()


@pytest.mark.parametrize("kr, expected", [
    (okr.KeyResult(WAPE, 0.55, 0.6, owner="Li", deadline="2024-12-31"), ("warning", "target")),        # below, higher is better
    (okr.KeyResult(Variant("slow_moving", "dos_excess"), 0.3, 0.2, owner="Li", deadline="2024-12-31"),
     ("warning", "target")),                                                                          # above, lower is better
    (okr.KeyResult(WAPE, 65, 0.6, owner="Li", deadline="2024-12-31"), ("warning", "target")),           # share outside 0–100%
    (okr.KeyResult(WAPE, 0.7, 0.6, owner="Li", deadline="2024-01-31"), ("warning", "deadline")),        # in the past
    (okr.KeyResult(WAPE, None, 0.6, owner="Li", deadline="2024-12-31"), ("error", "target")),
    (okr.KeyResult(WAPE, 0.7, None, owner="Li", deadline="2024-12-31"), ("warning", "baseline")),
    (okr.KeyResult(WAPE, 0.7, 0.6, deadline="2024-12-31"), ("info", "owner")),
    (okr.KeyResult(WAPE, 0.7, 0.6, owner="Li"), ("info", "deadline")),
    (okr.KeyResult(WAPE, 0.6, 0.6, owner="Li", deadline="2024-12-31"), ("info", "target")),
    (okr.KeyResult(WAPE, 0.7, 0.6, "2024-03", "2024-01", owner="Li", deadline="2024-12-31"), ("error", "baseline_from")),
    # bias: the reference is 0; a target further from 0 than the baseline
    (okr.KeyResult(Variant("plan_bias", "bias"), 0.1, -0.05, owner="Li", deadline="2024-12-31"), ("warning", "target")),
])
def test_obvious_mistakes_are_flagged(kr, expected):
    found, issues = _issues(kr)
    assert expected in found, found
    assert all(i.message.en and i.message.zh for i in issues)


def test_share_hint_and_sheet_level_checks():
    _, issues = _issues(okr.KeyResult(WAPE, 65, 0.6, owner="Li", deadline="2024-12-31"))
    assert any("did you mean 65.0%" in i.message.en for i in issues)
    sheet = okr.OkrSheet().add("").add("Empty objective")
    found = {(i.severity, i.field, i.objective) for i in okr.validate(sheet, TODAY)}
    assert ("warning", "objective", 0) in found and ("info", "key_results", 1) in found
    kr = okr.KeyResult(WAPE, 0.7, 0.6, owner="Li", deadline="2024-12-31")
    doubled = okr.OkrSheet().add("O", kr).add("O", kr)
    assert any(i.field == "variant" for i in okr.validate(doubled, TODAY))
    assert okr.validate(okr.OkrSheet(), TODAY)[0].severity == "info"


def test_sheet_add_and_remove():
    a = okr.KeyResult(WAPE, 0.7, 0.6)
    b = okr.KeyResult(Variant("plan_accuracy", "min_max"), 0.75, 0.7)
    sheet = okr.OkrSheet().add("One", a).add("Two", b).add("One", b)
    assert [len(o.key_results) for o in sheet.objectives] == [2, 1]
    assert sheet.remove(0, 0).objectives[0].key_results == (b,)
    assert [o.title for o in sheet.remove(1).objectives] == ["One"]


# ----------------------------------------------------------------------------- files

NASTY = {"objective": "=HYPERLINK(\"http://evil\",\"click\")", "owner": "+cmd|' /C calc'!A0",
         "label": "@SUM(1)", "title": "-2+3", "wording": "\tTab", "cr": "\rCR"}


def _sheet():
    bias = okr.KeyResult(Variant("plan_bias", "bias", {"classes": "A,B"}, NASTY["label"]), 0.0, -0.0512345678901234,
                         "2024-01", "2024-03", "pooled", NASTY["owner"], "2024-12-31", NASTY["wording"])
    wape = okr.KeyResult(Variant("plan_accuracy", "min_max", {"weight": "actual"}, "Min/Max | 按件数"), 0.8,
                         0.7512345678901234, "2024-01", "2024-02", "auto", "李雷", None, NASTY["cr"])
    money = okr.KeyResult(Variant("inventory_value", "month_end"), 1_000_000, 1_234_567.891, owner="Ops")
    return (okr.OkrSheet(title=NASTY["title"], source="sample · 1234")
            .add(NASTY["objective"], bias).add(NASTY["objective"], wape).add("Lean stock", money).add("Later"))


def _same(a: okr.OkrSheet, b: okr.OkrSheet) -> None:
    fa, fb = okr.to_frame(a), okr.to_frame(b)
    pd.testing.assert_frame_equal(fa.drop(columns=["baseline", "target"]), fb.drop(columns=["baseline", "target"]))
    for c in ("baseline", "target"):
        assert fa[c].tolist() == pytest.approx(fb[c].tolist(), rel=1e-14, nan_ok=True)
    assert (a.title, a.source) == (b.title, b.source)


def test_csv_round_trip_and_neutralisation():
    sheet = _sheet()
    data = okr.to_csv(sheet)
    assert data.startswith(b"\xef\xbb\xbf")                          # utf-8-sig for Excel
    text = data.decode("utf-8-sig")
    for value in NASTY.values():
        assert f"'{value}" in text or f"\"'{value}" in text.replace('""', '"'), value
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    starts = [str(v)[:1] for col in raw.columns for v in raw[col]] + [c[:1] for c in raw.columns]
    assert not any(s in ("=", "+", "@", "\t", "\r") for s in starts)
    # a real negative number stays a number
    assert "-0.0512345678901234" in text and "'-0.05" not in text
    back, problems = okr.read_sheet("okr.csv", data)
    assert problems == []
    _same(back, sheet)


def test_xlsx_round_trip_and_neutralisation():
    sheet = _sheet()
    data = okr.to_xlsx(sheet)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["OKR"]
    header = [c.value for c in ws[1]]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    texts = [c.value for c in cells if c.data_type == "s"]
    assert all(not str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in texts + header)
    assert f"'{NASTY['objective']}" in texts and f"'{NASTY['owner']}" in texts
    assert not any(c.data_type == "f" for c in cells)                  # no formula anywhere
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    baseline = ws.cell(row=2, column=header.index("baseline") + 1)
    assert baseline.data_type == "n" and baseline.value < 0 and baseline.number_format == "0.0%"
    money = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[header.index("kpi")] == "inventory_value"][0]
    assert money[header.index("target")] == 1_000_000
    back, problems = okr.read_sheet("okr.xlsx", data)
    assert problems == []
    _same(back, sheet)


def test_neutralise_helpers():
    frame = pd.DataFrame({"=h": ["=1+1", "ok", "-x"], "n": [-3, 2, 1]})
    safe = neutralise(frame)
    assert list(safe.columns) == ["'=h", "n"] and safe["n"].tolist() == [-3, 2, 1]
    assert unneutralise(safe).equals(frame.astype({"=h": object}))
    assert unneutralise_text("'plain") == "'plain"


def test_import_edited_rows_and_errors():
    frame = okr.to_frame(_sheet()).astype(object)
    frame.loc[0, "variant"] = ""                                          # edited by hand: kpi/definition/params
    frame.loc[1, "variant"] = "plan_accuracy:nope"                        # broken row: named, skipped
    frame.loc[len(frame)] = {c: "" for c in frame.columns} | {"objective": "New", "kpi": "otif",
                                                             "definition": "by_line", "params": "late_days=1",
                                                             "target": "0.9", "deadline": "2025-01-31"}
    data = frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    back, problems = okr.read_sheet("edited.csv", data)
    assert len(problems) == 1 and problems[0].startswith("row 3")
    krs = [kr for _, _, kr in back.key_results]
    assert krs[0].variant == Variant("plan_bias", "bias", {"classes": "A,B"}, NASTY["label"])
    assert krs[-1].variant == Variant("otif", "by_line", {"late_days": 1}) and krs[-1].target == 0.9
    with pytest.raises(KpiError, match="objective"):
        okr.read_sheet("x.csv", b"a,b\n1,2\n")
    with pytest.raises(KpiError, match="xlsx"):
        okr.read_sheet("x.txt", b"")
    with pytest.raises(KpiError, match="valid"):
        okr.read_sheet("x.xlsx", b"not a zip")
    with pytest.raises(KpiError, match="larger"):
        okr.read_sheet("x.csv", b" " * (okr.MAX_UPLOAD_BYTES + 1))


def test_xlsx_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (okr.MAX_UNZIPPED_BYTES + 10))
    with pytest.raises(KpiError, match="unpacks"):
        okr.read_sheet("bomb.xlsx", buffer.getvalue())


def test_markdown_escapes_user_text():
    md = okr.to_markdown(okr.OkrSheet(title="Q1 <script>").add("[click](http://x) ![img](http://y)", okr.KeyResult(
        WAPE, 0.7, 0.6, "2024-01", "2024-03", owner="a|b", deadline="2024-12-31")))
    assert "<script>" not in md and not re.search(r"(?<!\\)\]\(", md) and "a\\|b" in md
    assert "\\[click\\]" in md
    assert "| KR 1.1 | Plan accuracy · 1-MAPE (1 − WAPE) | 60.0% (2024-01…2024-03) | 70.0% |" in md
    assert "`plan_accuracy:wape`" in md
    assert "目标 1" in okr.to_markdown(okr.OkrSheet().add("x", okr.KeyResult(WAPE, 0.7, 0.6)), "zh")


# ----------------------------------------------------------------------------- progress


def test_progress_against_a_newer_dataset(backend):
    old = planning_ds(MONTHS[:2], backend)
    krs = {
        "on the way": okr.make_key_result(old, WAPE, 0.6, "2024-01", "2024-01"),                   # 0.5 → ? → 0.6
        "achieved": okr.make_key_result(old, WAPE, 0.45, "2024-01", "2024-01", method="mean"),     # hold ≥ 0.45
        "going backwards": okr.KeyResult(WAPE, 0.8, 0.7),
        "bias": okr.KeyResult(Variant("plan_bias", "bias"), 0.0, -1.0),
        "no data": okr.KeyResult(Variant("otif", "by_line"), 0.9, 0.8),
    }
    sheet = okr.OkrSheet()
    for name, kr in krs.items():
        sheet = sheet.add(name, kr)
    newer = planning_ds(MONTHS, backend)
    prog = okr.progress(sheet, newer).set_index("objective")
    # current = the last month with data, March: 1-WAPE 0.5; bias (100 − 200)/200 = −0.5
    assert prog.loc["on the way", "current"] == pytest.approx(0.5) and prog.loc["on the way", "period"] == "2024-03"
    assert prog.loc["on the way", "progress"] == pytest.approx(0.0) and prog.loc["on the way", "status"] == "on the way"
    assert prog.loc["achieved", "status"] == "achieved"               # a 'hold the line' key result still met
    assert prog.loc["going backwards", "progress"] == pytest.approx((0.5 - 0.7) / (0.8 - 0.7))
    assert prog.loc["going backwards", "status"] == "going backwards"
    assert prog.loc["bias", "progress"] == pytest.approx(0.5) and prog.loc["bias", "status"] == "on the way"
    assert prog.loc["no data", "status"] == "no data" and "needs" in prog.loc["no data", "note"]
    ranged = okr.progress(sheet, newer, "2024-02", "2024-03").set_index("objective")
    # pooled Feb–Mar: 1 − (0 + 100)/(300 + 200) = 0.8 → achieved from 0.5 towards 0.6
    assert ranged.loc["on the way", "current"] == pytest.approx(0.8) and ranged.loc["on the way", "status"] == "achieved"


# ----------------------------------------------------------------------------- URL form


def test_sheet_url_round_trip():
    sheet = _sheet()
    text = okr.encode_sheet(sheet)
    assert text and all(c.isalnum() or c in "-_" for c in text)
    back = okr.decode_sheet(text)
    _same(back, sheet)
    assert okr.encode_sheet(sheet, max_chars=50) is None                  # too big for a link


@pytest.mark.parametrize("text", ["", "!!!", base64.urlsafe_b64encode(b"not deflated").decode(),
                                  base64.urlsafe_b64encode(zlib.compress(b"[1, 2]")).decode(),
                                  base64.urlsafe_b64encode(zlib.compress(b'{"o": [{"k": [{"v": "x:y"}]}]}')).decode()])
def test_bad_links_are_clear_errors(text):
    with pytest.raises(KpiError):
        okr.decode_sheet(text)


def test_link_bomb_is_refused():
    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * 10_000_000, 9)).decode()
    with pytest.raises(KpiError, match="too large"):
        okr.decode_sheet(bomb)


def test_a_money_definition_is_not_checked_as_a_share():
    from kpilab.kpis import REGISTRY

    kpi = REGISTRY["logistics_cost"]
    per_order = Variant("logistics_cost", "cost_per_order")
    if kpi.unit_of(per_order.definition) != "money":
        pytest.skip("cost per order is not declared as money in this registry")
    kr = okr.KeyResult(per_order, 11.5, 12.3, owner="Logistics", deadline="2024-12-31")
    found, _ = _issues(kr)
    assert found == set()                                     # 11.5 is a price per order, not 1150%
    assert okr.resolve_method(per_order) == "mean"
    assert okr.to_frame(okr.OkrSheet().add("O", kr))["unit"].tolist() == ["money"]


# --------------------------------------------------------------------------- team templates

def test_template_target_rules_by_hand():
    relative = okr.TemplateKeyResult("supplier_lead_time:mean_first_receipt", "relative", -0.20, TEXT, TEXT)
    assert relative.target(20.0) == pytest.approx(16.0)                # lead time −20 %
    complement = okr.TemplateKeyResult("inspection_pass_rate:by_quantity", "complement", -0.15, TEXT, TEXT)
    assert complement.target(0.96) == pytest.approx(1 - 0.04 * 0.85)   # defects 4 % → 3.4 %
    level = okr.TemplateKeyResult("supplier_scorecard:weighted", "level", 0.90, TEXT, TEXT)
    assert level.target(0.75) == 0.90 and level.target(math.nan) == 0.90
    assert math.isnan(relative.target(math.nan))


TEXT = okr.L10n("x", "x")


def test_templates_declare_registered_variants_and_their_tables():
    from kpilab.kpis import REGISTRY

    assert set(okr.TEMPLATES) == {"sourcing", "backorders", "sop"}
    sourcing = okr.TEMPLATES["sourcing"].key_results
    assert [k.variant.split(":")[0] for k in sourcing] == [
        "supplier_lead_time", "purchase_savings", "inspection_pass_rate", "return_rate", "supplier_scorecard"]
    assert [(k.rule, k.change) for k in sourcing] == [("relative", -0.20), ("level", 0.10), ("complement", -0.15),
                                                      ("relative", -0.25), ("level", 0.90)]
    for template in okr.TEMPLATES.values():
        for kr in template.key_results:
            assert kr.wording.en and kr.wording.zh and kr.how.en and kr.how.zh
            kpi_id = kr.variant.split(":")[0]
            if kpi_id in REGISTRY:
                Variant.from_text(kr.variant)
                assert set(kr.tables) == set(REGISTRY[kpi_id].tables), kr.variant


def _lead_time_ds(backend):
    from tests.kpis.test_sourcing import lead_time_data

    return lead_time_data(backend)


def test_template_rows_baseline_target_and_what_is_missing(backend):
    ds = _lead_time_ds(backend)       # first receipts 10, 7, 30 days, all ordered in 2024-01
    template = okr.Template("t", TEXT, TEXT, (
        okr.TemplateKeyResult("supplier_lead_time:mean_first_receipt", "relative", -0.20, TEXT, TEXT,
                              ("purchase_orders", "receipts")),
        okr.TemplateKeyResult("backorder_rate:by_units", "relative", -0.20, TEXT, TEXT, ("orders", "backorders")),
        okr.TemplateKeyResult("no_such_kpi:x", "level", 1.0, TEXT, TEXT, ("purchase_orders", "widgets"))), TEXT)
    lead, backorders, unknown = okr.template_rows(ds, template)
    assert lead.baseline == pytest.approx(47 / 3) and lead.target == pytest.approx(47 / 3 * 0.8)
    assert (lead.baseline_from, lead.baseline_to, lead.missing) == ("2024-01", "2024-01", "")
    assert "backorders" in backorders.missing and "orders" in backorders.missing and math.isnan(backorders.target)
    assert unknown.missing == "no_such_kpi is not in this version's catalog (needs widgets)"
    assert "需要 widgets" in okr.template_rows(ds, template, lang="zh")[2].missing
    sheet = okr.apply_template(okr.OkrSheet(), template, [lead, backorders, unknown], targets={0: 12.0}, owner="Wang")
    (objective,) = sheet.objectives
    (kr,) = objective.key_results          # the rows that cannot be fed are skipped
    assert kr.target == 12.0 and kr.baseline == pytest.approx(47 / 3) and kr.owner == "Wang"
    assert kr.variant == Variant("supplier_lead_time", "mean_first_receipt")


def test_sourcing_template_on_the_sample():
    import kpilab

    sample = kpilab.load_sample()
    rows = okr.template_rows(sample, "sourcing")
    assert [r.missing for r in rows] == [""] * 5
    lead, savings, defects, returns, scorecard = rows
    assert lead.target == pytest.approx(lead.baseline * 0.8)
    assert savings.target == 0.10 and scorecard.target == 0.90
    assert defects.target == pytest.approx(1 - (1 - defects.baseline) * 0.85)
    assert returns.target == pytest.approx(returns.baseline * 0.75)
    expected = okr.period_value(sample, lead.variant, lead.baseline_from, lead.baseline_to)
    assert lead.baseline == pytest.approx(expected)
    sheet = okr.apply_template(okr.OkrSheet(), "sourcing", rows, lang="zh")
    assert sheet.objectives[0].title == "供应商交付更快、更省、更好"
    assert [kr.title for kr in sheet.objectives[0].key_results][0] == "供应商交货周期缩短 20 %"
    back, problems = okr.read_sheet("s.csv", okr.to_csv(sheet))
    assert not problems and back.objectives[0].key_results == sheet.objectives[0].key_results
    if "backorders" not in sample.tables:
        assert all("backorders" in r.missing for r in okr.template_rows(sample, "backorders"))
