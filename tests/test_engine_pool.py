"""The engine's pool step on every engine: sums for ratio definitions, a definition's own pooler
for a non-additive value (here a 90th percentile), grouped and ungrouped."""

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import Dataset, engines
from kpilab.engine import Context, pool
from kpilab.registry import Definition, L10n

DETAIL = pd.DataFrame({"sku": ["a", "a", "b", "b", "b"], "month": ["2024-01", "2024-02", "2024-01", "2024-01", "2024-02"],
                       "days": [10.0, 20.0, 30.0, 40.0, 50.0], "num": [1.0, 0.0, 1.0, 1.0, 0.0],
                       "den": [1.0, 1.0, 1.0, 1.0, 2.0]})
TEXT = L10n("x", "x")


def _definition(**kw) -> Definition:
    return Definition("d", TEXT, "f", TEXT, TEXT, stats=None, helpers=(), **kw)


RATIO = _definition(finish=lambda s: s.with_columns(value=nw.col("num") / nw.col("den")), sums=("num", "den"))
P90 = _definition(finish=lambda s: s, sums=("days",),
                  pooler=lambda d, by: (d.group_by(by).agg(value=nw.col("days").quantile(0.9, "linear")) if by
                                        else d.select(value=nw.col("days").quantile(0.9, "linear"))))


@pytest.fixture(params=["pandas", "polars", "duckdb"])
def ctx(request):
    skus = pd.DataFrame({"sku": ["a", "b"], "category": ["x", "y"], "unit_cost": 1.0})
    ds = Dataset({"skus": skus, "detail": DETAIL}, "pool").to_engine(request.param)   # one engine
    return Context(ds, {"a": 0.5, "b": 0.8, "c": 0.95, "window_days": 90})


def _pooled(ctx, definition, by):
    return engines.to_pandas(pool(ctx, ctx.table("detail"), by, definition))


def test_ratio_of_sums(ctx):
    assert _pooled(ctx, RATIO, ())["value"].tolist() == pytest.approx([3 / 6])
    by_month = _pooled(ctx, RATIO, ("month",))
    assert by_month["month"].tolist() == ["2024-01", "2024-02"]
    assert by_month["value"].tolist() == pytest.approx([3 / 3, 0 / 3])


def test_own_pooler_for_a_percentile(ctx):
    # 10, 20, 30, 40, 50: rank 0.9 × 4 = 3.6 → 40 + 0.6 × 10
    assert _pooled(ctx, P90, ())["value"].tolist() == pytest.approx([46.0])
    # by category (joined from skus): x = a (10, 20) → 19; y = b (30, 40, 50) → 48
    by_category = _pooled(ctx, P90, ("category",))
    assert by_category["category"].tolist() == ["x", "y"]
    assert by_category["value"].tolist() == pytest.approx([19.0, 48.0])
