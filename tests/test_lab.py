"""The Definition Lab library: variants, side by side, disagreement, sensitivity, the target
translator, the KPI tree, registering a definition, URL state — and every registered KPI on the
bundled sample."""

from __future__ import annotations

import dataclasses
import math

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

import kpilab
from kpilab import KpiError, lab
from kpilab.engine import missing_inputs
from kpilab.kpis import REGISTRY
from kpilab.kpis._common import ratio
from kpilab.registry import Definition, L10n, Param
from tests.conftest import dataset


def planning_ds(rows, backend="pandas"):
    """Plans (lag 1) and sales from rows (month, sku, category, P, A); every month is covered
    completely by the sales table (a 0-unit row on its last day)."""
    plans, sales = [], []
    for month, sku, _, p, a in rows:
        plans.append({"sku": sku, "month": month, "version_month": str(pd.Period(month, "M") - 1), "source": "plan",
                      "units": float(p), "value": float(p) * 2})
        sales.append({"date": pd.Timestamp(f"{month}-15"), "sku": sku, "warehouse": "W1", "units": float(a),
                      "gmv": float(a) * 2})
    for month in sorted({r[0] for r in rows}):
        sales.append({"date": pd.Period(month, "M").end_time.normalize(), "sku": rows[0][1], "warehouse": "W1",
                      "units": 0.0, "gmv": 0.0})
    skus = pd.DataFrame([{"sku": s, "category": c, "unit_cost": 1.0, "abc_class": "A"}
                         for s, c in {(r[1], r[2]) for r in rows}])
    return dataset(backend, plans=pd.DataFrame(plans), sales=pd.DataFrame(sales), skus=skus)


# Two SKUs in two categories: x under-planned (P 50, A 100), y over-planned (P 100, A 50).
#   1-WAPE:  x 1 − 50/100 = 0.5,  y 1 − 50/50 = 0.0
#   Min/Max: x 50/100 = 0.5,      y 50/100 = 0.5   (symmetric)
UNDER_OVER = [("2024-01", "a", "x", 50, 100), ("2024-01", "b", "y", 100, 50)]


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


# ----------------------------------------------------------------------------- variants


def test_variant_normalises_and_round_trips():
    v = lab.Variant("otif", "by_line", {"late_days": "1", "early_days": 3, "line_fill": 0.95})
    assert v.params == {"early_days": 3, "late_days": 1}           # parsed; the default 0.95 dropped
    assert v.text == "otif:by_line;early_days=3;late_days=1"
    assert lab.Variant.from_text(v.text) == v
    assert lab.Variant("otif", "by_line") == lab.Variant("otif", "by_line", {"late_days": 3})  # 3 is the default
    assert len({v, lab.Variant.from_text(v.text)}) == 1


@pytest.mark.parametrize("variant", [
    lab.Variant("return_rate", "same_month", {"keyword_list": "质量差,破损;x=y|z", "keywords": True}, "品退 | 关键词"),
    lab.Variant("plan_accuracy", "mape", {"classes": "A,B"}, "A/B items; 50% = good"),
    lab.Variant("otif", "by_order", {"as_of": "2026-09-30", "exclude_scarce": "false"}),
    lab.Variant("availability", "cell_level", {"lifecycles": ("active",)}),
])
def test_text_form_round_trips_awkward_values(variant):
    back = lab.Variant.from_text(variant.text)
    assert back == variant and back.label == variant.label
    assert "|" not in variant.key                                  # the label separator appears once only
    assert variant.text.count("|") == (1 if variant.label else 0)


@pytest.mark.parametrize("text", ["otif", "otif:", ":by_line", "otif:by_line;late_days", "nope:x",
                                  "otif:nope", "otif:by_line;late_days=-1", "otif:by_line;colour=red"])
def test_bad_text_forms_are_clear_errors(text):
    with pytest.raises(KpiError):
        lab.Variant.from_text(text)


def test_labels_are_unique_and_describe_parameters():
    a, b = lab.Variant("otif", "by_line"), lab.Variant("otif", "by_line", {"late_days": 1})
    assert lab.unique_labels([a, b]) == ("By line", "By line (late_days=1)")
    assert lab.unique_labels([a, a]) == ("By line", "By line #2")
    assert lab.unique_labels([lab.Variant("otif", "by_line", label="Strict")]) == ("Strict",)


# ----------------------------------------------------------------------------- side by side, ranks


def test_compare_variants_side_by_side(backend):
    ds = planning_ds(UNDER_OVER, backend)
    v = [lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max")]
    cmp = lab.compare_variants(ds, v, ("category",))
    wide = cmp.wide().set_index("category")
    assert wide.loc["x"].tolist() == pytest.approx([0.5, 0.5])
    assert wide.loc["y"].tolist() == pytest.approx([0.0, 0.5])
    overall = lab.compare_variants(ds, v).values()
    # pooled: 1 − (50+50)/150 = 1/3; Min/Max (max weights 100, 100): (50+50)/200 = 0.5
    assert overall == pytest.approx({"1-MAPE (1 − WAPE)": 1 / 3, "Min/Max accuracy": 0.5})


def test_compare_variants_checks_the_request():
    ds = planning_ds(UNDER_OVER)
    with pytest.raises(KpiError, match="one KPI"):
        lab.compare_variants(ds, [lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_bias", "bias")])
    with pytest.raises(KpiError, match="cannot be grouped"):
        lab.compare_variants(ds, [lab.Variant("plan_accuracy", "wape")], ("supplier",))
    with pytest.raises(KpiError, match="needs"):
        lab.compare_variants(ds, [lab.Variant("otif", "by_line")])


def test_rank_values_follow_the_direction():
    s = pd.Series([0.2, 0.9, np.nan, 0.9])
    assert lab.rank_values(s, "higher").tolist()[:2] == [3.0, 1.0]
    assert math.isnan(lab.rank_values(s, "higher")[2])
    assert lab.rank_values(s, "lower").tolist()[0] == 1.0
    # target band 0.75–0.80: distances 0.05, 0, 0.10 → ranks 2, 1, 3
    assert lab.rank_values(pd.Series([0.70, 0.78, 0.90]), "target", (0.75, 0.80)).tolist() == [2.0, 1.0, 3.0]


def test_disagreement_with_levels_and_terciles():
    ds = planning_ds(UNDER_OVER)
    v = [lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max")]
    cmp = lab.compare_variants(ds, v, ("category",))
    labels = cmp.labels
    # level 0.4 under both: WAPE x 0.5 meets, y 0.0 misses; Min/Max both 0.5 meet → y differs
    table = lab.disagreement(cmp, {labels[0]: 0.4, labels[1]: 0.4}).set_index("category")
    assert table.loc["y", f"verdict · {labels[0]}"] == "misses"
    assert table.loc["y", f"verdict · {labels[1]}"] == "meets"
    assert bool(table.loc["y", "verdicts_differ"]) and not bool(table.loc["x", "verdicts_differ"])
    assert (table["scheme"] == "level").all()
    # WAPE ranks x 1, y 2; Min/Max ties both at 1 → y moves one place
    assert table.loc["y", "rank_spread"] == 1 and table.loc["x", "rank_spread"] == 0
    # references: WAPE 65%, Min/Max 70% → everything misses, nothing differs
    assert not lab.disagreement(cmp)["verdicts_differ"].any()
    # a missing level → tercile verdicts for every variant
    assert (lab.disagreement(cmp, {labels[0]: None, labels[1]: 0.4})["scheme"] == "tercile").all()


def test_rank_correlation_and_movers():
    # 4 categories; WAPE and Min/Max order them differently
    rows = [("2024-01", "a", "c1", 50, 100), ("2024-01", "b", "c2", 100, 50), ("2024-01", "c", "c3", 90, 100),
            ("2024-01", "d", "c4", 100, 70)]
    ds = planning_ds(rows)
    v = [lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max")]
    cmp = lab.compare_variants(ds, v, ("category",))
    # WAPE:    c1 .5, c2 0, c3 .9, c4 1 − 30/70 = .571 → ranks c3 1, c4 2, c1 3, c2 4
    # Min/Max: c1 .5, c2 .5, c3 .9, c4 .7              → ranks c3 1, c4 2, c1 3, c2 3 (tie)
    corr = lab.rank_correlation(cmp).iloc[0]
    assert corr["n"] == 4
    from scipy import stats
    expected = stats.spearmanr([3, 4, 1, 2], [3, 3, 1, 2]).statistic
    assert corr["spearman"] == pytest.approx(expected)
    assert corr["kendall"] == pytest.approx(stats.kendalltau([3, 4, 1, 2], [3, 3, 1, 2]).statistic)
    movers = lab.movers(cmp, top=1)
    assert set(movers["group"]) == {"c2"} and set(movers["rank_spread"]) == {1.0}


def test_rank_correlation_needs_three_groups():
    ds = planning_ds(UNDER_OVER)
    cmp = lab.compare_variants(ds, [lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "mape")],
                               ("category",))
    row = lab.rank_correlation(cmp).iloc[0]
    assert row["n"] == 2 and math.isnan(row["spearman"]) and math.isnan(row["kendall"])


def test_ranks_need_a_grouping():
    ds = planning_ds(UNDER_OVER)
    with pytest.raises(KpiError, match="grouping"):
        lab.ranks(lab.compare_variants(ds, [lab.Variant("plan_accuracy", "wape")]))


# ----------------------------------------------------------------------------- sensitivity


def test_sweep_values_and_range():
    p = Param("late_days", "int", 3, L10n("", ""), bounds=(0, 365))
    assert lab.sweep_values(p, 0, 6, 4) == [0, 2, 4, 6]
    assert lab.sweep_values(Param("f", "float", 0.95, L10n("", ""), bounds=(0.0, 1.0)), steps=3) == [0.475, 0.7375, 1.0]
    assert lab.sweep_range(Param("f", "float", 0.95, L10n("", ""), bounds=(0.0, 1.0))) == (0.0, 1.0, 0.01)
    with pytest.raises(KpiError):
        lab.sweep_values(Param("s", "choice", "a", L10n("", ""), choices=("a",)))


def test_sweep_marks_variants_that_do_not_read_the_parameter():
    ds = planning_ds([("2024-01", "a", "x", 100, 50), ("2024-01", "b", "x", 0, 10)])
    v = [lab.Variant("plan_accuracy", "min_max"), lab.Variant("plan_accuracy", "wape")]
    sweep = lab.sweep(ds, v, "weight", ["max", "actual"])
    mm = sweep[sweep["variant"] == "Min/Max accuracy"].set_index("param_value")["value"]
    # max weights 100, 10: (50 + 0)/110; actual weights 50, 10: (25 + 0)/60
    assert mm["max"] == pytest.approx(50 / 110) and mm["actual"] == pytest.approx(25 / 60)
    wape = sweep[sweep["variant"] == "1-MAPE (1 − WAPE)"]
    assert not wape["reads"].any() and wape["value"].nunique() == 1      # 1 − (50+10)/60 = 0
    assert wape["value"].iloc[0] == pytest.approx(0.0)


def test_sweep_reports_progress_per_computation():
    ds = planning_ds([("2024-01", "a", "x", 100, 50), ("2024-01", "b", "x", 0, 10)])
    v = [lab.Variant("plan_accuracy", "min_max"), lab.Variant("plan_accuracy", "wape")]
    calls = []
    sweep = lab.sweep(ds, v, "weight", ["max", "actual"], progress=lambda share, text: calls.append((share, text)))
    # Min/Max reads weight: 2 computations; 1-WAPE does not: 1 computation; 3 in all, then done
    assert [share for share, _ in calls] == [0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    assert calls[0][1] == "Min/Max accuracy: weight = max" and calls[1][1] == "Min/Max accuracy: weight = actual"
    assert calls[2][1].startswith("1-MAPE (1 − WAPE): weight = ")
    pd.testing.assert_frame_equal(sweep, lab.sweep(ds, v, "weight", ["max", "actual"]))


def test_sweep_progress_stops_a_sweep_when_the_callback_raises():
    """A page's progress bar raises Streamlit's rerun exception when an input changes: the sweep stops there."""
    ds = planning_ds([("2024-01", "a", "x", 100, 50), ("2024-01", "b", "x", 0, 10)])
    seen = []

    def interrupted(share, text):
        seen.append(share)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lab.sweep(ds, [lab.Variant("plan_accuracy", "min_max")], "weight", ["max", "actual", "plan"],
                  progress=interrupted)
    assert seen == [0.0, pytest.approx(1 / 3)]


# ----------------------------------------------------------------------------- target translator


def _pairs(n, slope, intercept, noise, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 0.85, n)
    return pd.DataFrame({"x": x, "y": intercept + slope * x + rng.normal(0, noise, n)})


@pytest.mark.parametrize("method", ["theil_sen", "ols"])
def test_translator_recovers_a_known_relation(method):
    pairs = _pairs(120, slope=0.8, intercept=0.18, noise=0.01)
    t = lab.translate_target(pairs, 0.65, method=method, level=0.99)
    truth = 0.18 + 0.8 * 0.65                                      # 0.70
    assert t.ok and t.n == 120 and t.r > 0.9 and t.method == method
    assert t.estimate == pytest.approx(truth, abs=0.005)
    assert t.slope == pytest.approx(0.8, abs=0.03)
    assert t.low <= truth <= t.high and t.high - t.low < 0.01       # the band holds the truth, and is narrow
    assert t.spread_low < t.low and t.spread_high > t.high         # one month × group scatters more than the line
    assert not t.extrapolated and "120" in t.message


@pytest.mark.parametrize("method", ["theil_sen", "ols"])
def test_translator_band_is_calibrated(method):
    """Over many synthetic datasets, the 90% band holds the true equivalent level about 90% of the time."""
    truth = 0.18 + 0.8 * 0.65
    bands = [lab.translate_target(_pairs(40, 0.8, 0.18, 0.02, seed=s), 0.65, method=method, n_boot=150)
             for s in range(30)]
    held = [b.low <= truth <= b.high for b in bands]
    assert 0.7 <= sum(held) / len(held) <= 1.0


def test_translator_is_robust_to_outliers_with_theil_sen():
    pairs = _pairs(60, slope=1.0, intercept=0.05, noise=0.005)
    pairs.loc[:5, "y"] = 0.0                                         # six broken months
    robust = lab.translate_target(pairs, 0.65, method="theil_sen", min_r=0.0)
    assert robust.estimate == pytest.approx(0.70, abs=0.01)
    ols = lab.translate_target(pairs, 0.65, method="ols", min_r=0.0)
    assert abs(ols.estimate - 0.70) > abs(robust.estimate - 0.70)


def test_translator_refuses_thin_data():
    t = lab.translate_target(_pairs(5, 0.8, 0.18, 0.01), 0.65)
    assert not t.ok and math.isnan(t.estimate) and t.n == 5
    assert "Too thin" in t.message and "5" in t.message
    weak = lab.translate_target(pd.DataFrame({"x": np.linspace(0.5, 0.8, 40),
                                              "y": np.random.default_rng(3).uniform(0.5, 0.8, 40)}), 0.65)
    assert not weak.ok and math.isnan(weak.estimate) and abs(weak.r) < 0.5
    assert f"r = {weak.r:.2f}" in weak.message and "n = 40" in weak.message
    flat = lab.translate_target(([0.5] * 10, list(np.linspace(0.5, 0.7, 10))), 0.65)
    assert not flat.ok and "does not vary" in flat.message
    zh = lab.translate_target(_pairs(5, 0.8, 0.18, 0.01), 0.65, lang="zh")
    assert "数据太少" in zh.message


def test_translator_flags_extrapolation_and_reuses_a_fitted_relation():
    pairs = _pairs(50, slope=0.8, intercept=0.18, noise=0.01)
    relation = lab.fit_relation(pairs)
    far = lab.translate_target(relation, 0.95)
    assert far.ok and far.extrapolated and "outside" in far.message
    assert lab.translate_target(relation, 0.6).estimate == pytest.approx(
        lab.translate_target(pairs, 0.6).estimate)


def test_translator_bootstrap_reports_progress_per_chunk():
    # 400 pairs: 79,800 pairwise slopes, so 3,000,000 // 79,800 = 37 → the floor of 50 resamples,
    # in chunks of 2,000,000 // 79,800 = 25 resamples: two chunks, then done
    pairs = _pairs(400, slope=0.8, intercept=0.18, noise=0.01)
    calls = []
    relation = lab.fit_relation(pairs, progress=lambda share, text: calls.append((share, text)))
    assert calls == [(0.0, "0/50"), (0.5, "25/50"), (1.0, "")]
    assert relation == lab.fit_relation(pairs)                      # same seed, same bootstrap
    thin = []
    lab.fit_relation(_pairs(5, 0.8, 0.18, 0.01), progress=lambda share, text: thin.append(share))
    assert thin == []                                                # refused before any bootstrap


def test_paired_values_on_data():
    rows = [(m, s, c, p, a) for m in ("2024-01", "2024-02", "2024-03")
            for s, c, p, a in (("a", "x", 50, 100), ("b", "y", 100, 50), ("c", "z", 90, 100))]
    ds = planning_ds(rows)
    pairs = lab.paired_values(ds, lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max"),
                              "category")
    assert len(pairs) == 9 and list(pairs.columns) == ["month", "category", "x", "y"]
    row = pairs[(pairs["month"] == "2024-02") & (pairs["category"] == "y")].iloc[0]
    assert (row["x"], row["y"]) == pytest.approx((0.0, 0.5))
    assert lab.default_target(lab.Variant("plan_accuracy", "wape"), pairs) == pytest.approx(0.65)   # within 0–0.9


# ----------------------------------------------------------------------------- KPI tree


def test_tree_is_declared_with_registered_ids():
    spec_ids = set(REGISTRY)
    for parent, child, why in lab.KPI_TREE:
        assert parent in spec_ids and child in spec_ids, (parent, child)
        assert why.en and why.zh
    assert set(lab.tree_roots()) == {"availability", "logistics_cost", "slow_moving", "return_rate"}


def test_tree_computes_on_the_sample(sample):
    nodes = lab.tree_nodes(sample)
    assert set(nodes["kpi_id"]) == set(lab.tree_kpis())
    assert (nodes["status"] == "ok").all(), nodes[nodes["status"] != "ok"][["kpi_id", "reason"]]
    assert np.isfinite(nodes["value"]).all()
    days = nodes[nodes["kpi_id"] == "days_of_inventory"]
    assert len(days) == 2 and set(days["parent_path"]) == {"availability", "slow_moving"}
    expected = kpilab.compute(sample, "plan_accuracy", "min_max").value
    chosen = lab.tree_nodes(sample, {"plan_accuracy": lab.Variant("plan_accuracy", "min_max")})
    assert chosen.set_index("kpi_id").loc["plan_accuracy", "value"] == pytest.approx(expected)
    # levels: roots first, children to the right; a child sits between its first and last grandchild
    assert nodes.groupby("level")["kpi_id"].count().to_dict() == {1: 4, 2: 9, 3: 1}


def test_tree_says_why_a_node_has_no_value():
    ds = planning_ds(UNDER_OVER)
    tree = (("plan_accuracy", "otif", L10n("a", "a")), ("plan_accuracy", "no_such_kpi", L10n("b", "b")))
    nodes = lab.tree_nodes(ds, tree=tree).set_index("kpi_id")
    assert nodes.loc["plan_accuracy", "status"] == "ok"
    assert nodes.loc["plan_accuracy", "value"] == pytest.approx(1 / 3)
    assert nodes.loc["otif", "status"] == "missing data" and "purchase_orders" in nodes.loc["otif", "reason"]
    assert nodes.loc["no_such_kpi", "status"] == "not registered"


# ----------------------------------------------------------------------------- registering a definition


@pytest.fixture
def restore_registry():
    saved = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)


def _hit_rate():
    """Share of SKU-months planned within ±tolerance of actual (built on the wape detail)."""
    def stats(ctx, p, by):
        base = REGISTRY["plan_accuracy"].definition("wape").stats(ctx, p, by)
        near = (nw.col("planned") - nw.col("actual")).abs() <= p["tolerance"] * nw.col("actual")
        return base.with_columns(hits=near.cast(nw.Int64), items=nw.lit(1))
    return Definition("hit_rate", L10n("Hit rate", "命中率"), "#{|P−A| ≤ t·A} / #items", L10n("", ""),
                      L10n("", ""), stats=stats, finish=lambda s: s.with_columns(value=ratio("hits", "items")),
                      sums=("hits", "items"), helpers=("hits", "items"), params=("lag", "tolerance"))


def test_register_definition_at_runtime(restore_registry, backend):
    tolerance = Param("tolerance", "float", 0.2, L10n("Tolerance", "容差"), bounds=(0.0, 10.0))
    with pytest.raises(KpiError, match="does not declare"):
        lab.register_definition("plan_accuracy", _hit_rate())
    new = lab.register_definition("plan_accuracy", _hit_rate(), params=(tolerance,))
    assert kpilab.REGISTRY["plan_accuracy"] is new and "hit_rate" in [d.id for d in new.definitions]
    ds = planning_ds([("2024-01", "a", "x", 90, 100), ("2024-01", "b", "x", 50, 100), ("2024-01", "c", "y", 130, 100)],
                     backend)
    # |P−A| = 10, 50, 30 against 20% of 100: a and… only a is a hit → 1/3; at 30%: a and c → 2/3
    assert kpilab.compute(ds, "plan_accuracy", "hit_rate").value == pytest.approx(1 / 3)
    assert kpilab.compute(ds, "plan_accuracy", "hit_rate", tolerance=0.3).value == pytest.approx(2 / 3)
    v = lab.Variant("plan_accuracy", "hit_rate", {"tolerance": 0.3})
    assert lab.compare_variants(ds, [v], ("category",)).wide().iloc[:, 1].tolist() == pytest.approx([0.5, 1.0])
    with pytest.raises(KpiError, match="already has a definition"):
        lab.register_definition("plan_accuracy", _hit_rate())
    with pytest.raises(KpiError, match="already has parameter"):
        lab.register_definition("plan_accuracy", dataclasses.replace(_hit_rate(), id="other"), params=(tolerance,))
    lab.unregister_definition("plan_accuracy", "hit_rate")
    assert "hit_rate" not in [d.id for d in kpilab.REGISTRY["plan_accuracy"].definitions]


# ----------------------------------------------------------------------------- URL state


def test_lab_state_round_trip():
    state = lab.LabState("return_rate", (lab.Variant("return_rate", "same_month", {"keywords": True}, "当月 & 关键词"),
                                         lab.Variant("return_rate", "attributed")), ("category",))
    query = lab.encode_lab_state(state)
    assert all(isinstance(v, str) for v in query["v"])
    back, problems = lab.decode_lab_state(query)
    assert back == state and problems == []
    # what st.query_params gives back: lists for repeated keys, strings otherwise
    back, _ = lab.decode_lab_state({"kpi": ["return_rate"], "v": query["v"], "by": ["category"]})
    assert back == state


def test_lab_state_decoding_is_lenient():
    back, problems = lab.decode_lab_state({"kpi": "otif", "v": ["otif:by_line", "otif:nope", "plan_bias:bias"]})
    assert back.variants == (lab.Variant("otif", "by_line"),) and len(problems) == 2
    assert lab.decode_lab_state({}) == (None, [])
    state, problems = lab.decode_lab_state({"kpi": "no_such_kpi"})
    assert state is None and problems


# ----------------------------------------------------------------------------- every KPI on the sample


def _memo_runner(dataset):
    cache = {}

    def run(kpi_id, definitions, by, params):
        key = (kpi_id, tuple(definitions), tuple(by), tuple(sorted(params.items())))
        if key not in cache:
            cache[key] = kpilab.compare(dataset, kpi_id, definitions, by=by, **params)
        return cache[key]
    return run


@pytest.mark.parametrize("kpi_id", list(REGISTRY))
def test_lab_core_on_every_kpi_of_the_sample(sample, kpi_id):
    from kpilab import okr

    kpi = REGISTRY[kpi_id]
    missing = missing_inputs(kpi, sample)
    if missing:
        pytest.skip(f"the sample cannot feed {kpi_id}: needs {', '.join(missing)}")
    run = _memo_runner(sample)
    variants = list(lab.default_variants(kpi, 2))
    if len(kpi.definitions) == 1 and lab.numeric_params(kpi):
        p = lab.numeric_params(kpi)[0]
        variants[1] = variants[0].with_params(**{p.name: lab.sweep_values(p, steps=2)[0]})
    overall = lab.compare_variants(sample, variants, runner=run)
    assert all(isinstance(v, float) for v in overall.values().values())
    group = lab.default_pairing_group(kpi, sample) or "month"
    grouped = lab.compare_variants(sample, variants, (group,), runner=run)
    assert len(grouped.wide()) >= 1
    table = lab.disagreement(grouped)
    assert {"group", "rank_spread", "verdicts_differ"} <= set(table.columns)
    assert len(lab.rank_correlation(grouped)) == 1
    lab.movers(grouped, 5)
    pairs = lab.paired_values(sample, variants[0], variants[1], group, runner=run)
    t = lab.translate_target(lab.fit_relation(pairs), lab.default_target(variants[0], pairs))
    assert t.message and (t.ok == math.isfinite(t.estimate))
    numeric = lab.numeric_params(kpi)
    if numeric:
        sweep = lab.sweep(sample, variants, numeric[0].name, lab.sweep_values(numeric[0], steps=2), runner=run)
        assert len(sweep) == 4
    months = okr.months_with_data(sample, variants[0], run)
    if months:
        base = okr.period_value(sample, variants[0], months[max(0, len(months) - 3)], months[-1], runner=run)
        assert math.isfinite(base)


def test_definitions_with_their_own_units(sample):
    """Cost to GMV is a share, cost per order money: values are charted per unit, never on one axis."""
    kpi = REGISTRY["logistics_cost"]
    units = {d.id: kpi.unit_of(d) for d in kpi.definitions}
    if len(set(units.values())) < 2:
        pytest.skip("logistics_cost definitions share one unit in this registry")
    v = [lab.Variant("logistics_cost", "cost_to_gmv"), lab.Variant("logistics_cost", "cost_per_order")]
    assert [x.unit for x in v] == [units["cost_to_gmv"], units["cost_per_order"]]
    cmp = lab.compare_variants(sample, v, ("warehouse",))
    groups = cmp.unit_groups()
    assert [u for u, _ in groups] == [units["cost_to_gmv"], units["cost_per_order"]]
    assert set(cmp.long(groups[1][1])["variant"]) == {"Cost per order"}
    nodes = lab.tree_nodes(sample, {"logistics_cost": v[1]}).set_index("kpi_id")
    assert nodes.loc["logistics_cost", "unit"] == units["cost_per_order"]


# ----------------------------------------------------------------------------- sourcing (issue 12)


def test_sweep_of_the_scorecard_weights(backend):
    """Ungrouped components of the hand-made scorecard data: OTIF 3/5, inspection 0.9, on time 4/5."""
    from tests.kpis.test_sourcing import scorecard_data

    ds = scorecard_data(backend)
    variants = [lab.Variant("supplier_scorecard", "weighted"), lab.Variant("supplier_scorecard", "weakest_link")]
    assert lab.numeric_params("supplier_scorecard")[0].name == "weight_otif"
    table = lab.sweep(ds, variants, "weight_otif", [0.0, 0.4, 1.0])
    weighted = table[table["reads"]]["value"].tolist()
    assert weighted == pytest.approx([(0.4 * 0.9 + 0.2 * 0.8) / 0.6,         # OTIF left out
                                      0.4 * 0.6 + 0.4 * 0.9 + 0.2 * 0.8,      # the default weights
                                      (0.6 + 0.4 * 0.9 + 0.2 * 0.8) / 1.6])
    flat = table[~table["reads"]]["value"].tolist()
    assert flat == pytest.approx([0.6] * 3)          # the weakest link does not read the weights


def test_translate_a_scorecard_target_between_definitions(sample):
    """Weighted 90 → weakest link, paired per month × supplier on the sample."""
    x, y = lab.Variant("supplier_scorecard", "weighted"), lab.Variant("supplier_scorecard", "weakest_link")
    pairs = lab.paired_values(sample, x, y, "supplier")
    assert len(pairs) >= 8 and (pairs["y"] <= pairs["x"] + 1e-12).all()      # the lowest ≤ any weighted mean
    tr = lab.translate_target(lab.fit_relation(pairs), 0.9)
    assert tr.message
    if tr.ok:
        assert tr.estimate <= 0.9 + 1e-9
