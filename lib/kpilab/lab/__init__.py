"""The Definition Lab: the same KPI under two to four *variants* (a definition plus parameter
values), side by side, where they disagree, how sensitive they are, and what a target under one
means under another. Everything is driven by the registry: no KPI is named in this module except
in the KPI tree, which is data (ids only).

>>> v = Variant("otif", "by_line", {"early_days": 3, "late_days": 1})
>>> v.text
'otif:by_line;early_days=3;late_days=1'
>>> Variant.from_text(v.text) == v
True

Computation goes through a *runner* ``runner(kpi_id, definitions, by, params) -> Comparison``;
the default calls ``kpilab.compare`` on the dataset, the app passes its cached wrapper so each
variant is computed once per dataset and parameters.

Reading of the brief (choices made here, stated to the user where they matter):

- A variant's ``params`` keep only values that differ from the KPI's defaults, so two variants
  that compute the same thing have the same text form (and the same cache entry).
- Ranks: 1 is the best group. "Best" follows the definition's direction: highest first for
  higher-is-better, lowest first for lower-is-better; for a target KPI, the smallest distance
  to its reference level (or to the band between its lowest and highest reference); a target
  KPI without a reference level is ranked highest first, and a note says so.
- Verdicts: against a level per variant (the definition's first reference level unless the user
  gives one) when every variant has one; otherwise the tercile of the group's rank (top /
  middle / bottom third) — so verdicts compare like with like.
- Target translator: pairs are the two variants' values per month × group. The fit is Theil–Sen
  (robust) or ordinary least squares; the band is the uncertainty of the fitted line at the
  target (bootstrap percentiles for Theil–Sen, the regression's confidence interval for OLS);
  ``spread`` is how far one month × group scatters around the line (residual quantiles). It
  refuses (no estimate) with fewer than ``min_points`` pairs or |r| < ``min_r``.
"""

from kpilab.lab.variants import (Runner, CLASS_NAMES, Variant, as_variant, default_variants, unique_labels,
    register_definition, unregister_definition, default_runner, variant_result, VariantComparison,
    compare_variants, display_scale, add_series, value_of)
from kpilab.lab.disagreement import (rank_values, ranks, rank_notes, reference_levels, disagreement,
    rank_correlation, movers)
from kpilab.lab.sensitivity import (numeric_params, sweep_values, sweep_range, sweep, select_variants)
from kpilab.lab.translator import (Translation, paired_values, Relation, theil_sen_resampled, fit_relation,
    translate_target, default_pairing_group, default_target)
from kpilab.lab.tree import (KPI_TREE, tree_roots, tree_kpis, tree_nodes)
from kpilab.lab.urlstate import (LabState, encode_lab_state, decode_lab_state)

__all__ = [
    "Runner", "CLASS_NAMES", "Variant", "as_variant", "default_variants", "unique_labels",
    "register_definition", "unregister_definition", "default_runner", "variant_result",
    "VariantComparison", "compare_variants", "display_scale", "add_series", "value_of", "rank_values",
    "ranks", "rank_notes", "reference_levels", "disagreement", "rank_correlation", "movers",
    "numeric_params", "sweep_values", "sweep_range", "sweep", "select_variants", "Translation",
    "paired_values", "Relation", "theil_sen_resampled", "fit_relation", "translate_target",
    "default_pairing_group", "default_target", "KPI_TREE", "tree_roots", "tree_kpis", "tree_nodes",
    "LabState", "encode_lab_state", "decode_lab_state"]
