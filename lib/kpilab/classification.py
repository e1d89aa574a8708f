"""ABC(DE) classification of SKUs by GMV, derived when ``skus.abc_class`` is blank.

Rank SKUs by Σ sales.gmv over the last ``window_days`` calendar days of the sales table
(descending, ties by sku ascending). With ``before`` = cumulative GMV share of the SKUs ranked
above a SKU: A if before < a, B if before < b, C if before < c, else D; E when its GMV in the
window is 0 (no sales rows included). Only SKUs of ``skus`` are ranked; a class given in
``skus.abc_class`` is kept. The article's classes: A super-hit, B hit, C light-hit, D long tail,
E no sales.
"""

from __future__ import annotations

import datetime as dt

import narwhals.stable.v2 as nw

from kpilab.engines import scalar
from kpilab.registry import L10n, Param

CLASSES = ("A", "B", "C", "D", "E")

CLASSES_FILTER = Param(
    "classes", "list", (), L10n("ABC classes (blank = all)", "ABC 分类 (留空 = 全部)"),
    L10n("e.g. A,B for the hits the article reviews line by line.", "例如 A,B: 文章中逐行 review 的爆品。"),
    choices=CLASSES)
"""The ``classes`` filter of the KPIs that list it (see ``Context.filter_classes``)."""

CLASS_PARAMS = (
    Param("a", "float", 0.5, L10n("A class: cumulative GMV share below", "A 类: 累计 GMV 占比低于"),
          bounds=(0.0, 1.0)),
    Param("b", "float", 0.8, L10n("B class: cumulative GMV share below", "B 类: 累计 GMV 占比低于"),
          bounds=(0.0, 1.0)),
    Param("c", "float", 0.95, L10n("C class: cumulative GMV share below", "C 类: 累计 GMV 占比低于"),
          bounds=(0.0, 1.0)),
    Param("window_days", "int", 90, L10n("ABC window (days of sales)", "ABC 分类窗口 (销售天数)"),
          bounds=(1, 3650)),
)


def derive_abc(skus: nw.LazyFrame, sales: nw.LazyFrame | None, *, a: float = 0.5, b: float = 0.8,
               c: float = 0.95, window_days: int = 90) -> nw.LazyFrame:
    """Return ``skus`` with ``abc_class`` filled: given classes kept, blanks derived from GMV.

    >>> import pandas as pd
    >>> skus = nw.from_native(pd.DataFrame({"sku": ["x", "y", "z", "w"], "abc_class": [None] * 4})).lazy()
    >>> sales = nw.from_native(pd.DataFrame({"sku": ["x", "y", "z"], "gmv": [60.0, 30.0, 10.0],
    ...                                      "date": pd.to_datetime(["2024-01-01"] * 3)})).lazy()
    >>> derive_abc(skus, sales).sort("sku").collect()["abc_class"].to_list()
    ['E', 'A', 'B', 'C']
    """
    if not a <= b <= c:
        raise ValueError(f"class thresholds must satisfy a ≤ b ≤ c (got {a}, {b}, {c})")
    ids = skus.select("sku")
    last = None if sales is None else scalar(sales, nw.col("date").max())
    if last is None:
        gmv = ids.with_columns(gmv=nw.lit(0.0))
    else:
        start = last - dt.timedelta(days=window_days - 1)
        window = sales.filter(nw.col("date") >= start).group_by("sku").agg(nw.col("gmv").sum())
        gmv = ids.join(window, on="sku", how="left").with_columns(nw.col("gmv").fill_null(0.0))
    total = nw.col("gmv").sum()
    ranked = gmv.with_columns(neg=-nw.col("gmv")).with_columns(
        before=(nw.col("gmv").cum_sum().over(order_by=["neg", "sku"]) - nw.col("gmv"))
        / nw.when(total > 0).then(total).otherwise(nw.lit(1.0)))
    derived = ranked.with_columns(
        derived=nw.when(nw.col("gmv") <= 0).then(nw.lit("E"))
        .when(nw.col("before") < a).then(nw.lit("A"))
        .when(nw.col("before") < b).then(nw.lit("B"))
        .when(nw.col("before") < c).then(nw.lit("C"))
        .otherwise(nw.lit("D"))).select("sku", "derived")
    out = skus.join(derived, on="sku", how="left")
    given = "abc_class" in out.collect_schema().names()
    filled = (nw.coalesce(nw.col("abc_class"), nw.col("derived")) if given else nw.col("derived"))
    return out.with_columns(abc_class=filled).drop("derived")
