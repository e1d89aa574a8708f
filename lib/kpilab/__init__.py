"""KPI Lab: compute every definition of a supply-chain KPI on your own data, side by side.

>>> import kpilab
>>> ds = kpilab.load_sample()                                            # doctest: +SKIP
>>> kpilab.compute(ds, "plan_accuracy", "min_max", by=["month"]).table   # doctest: +SKIP
"""

from kpilab.dataset import Dataset, load_dataset, load_sample
from kpilab.engine import Comparison, KpiResult, compare, compute, coverage, grouping_columns, missing_inputs
from kpilab.kpis import REGISTRY, get_kpi
from kpilab.registry import KpiError

__all__ = ["Dataset", "load_dataset", "load_sample", "compute", "compare", "KpiResult", "Comparison",
           "coverage", "grouping_columns", "missing_inputs", "REGISTRY", "get_kpi", "KpiError"]
