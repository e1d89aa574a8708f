"""contract.TABLES must say exactly what shared/spec/data-contract.md says."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpilab.contract import TABLES

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "data-contract.md"
_TYPES = {"str": "str", "float": "float", "int": "int", "date": "date", "bool": "bool",
          "YYYY-MM": "month", "str A–E": "code", "float 0–100": "float"}
_CODES = {"reason", "status", "lifecycle", "source", "tier", "cost_type", "abc_class"}


def _spec_tables() -> dict[str, dict]:
    """Tables of the markdown contract: key and rows (column, type, required, default)."""
    tables: dict[str, dict] = {}
    current = None
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        head = re.match(r"## (\w+) .*— key: (.+)$", line)
        if head:
            current = tables.setdefault(head[1], {"key": tuple(
                k.strip() for k in head[2].split(",")), "rows": []})
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("| ") and not line.startswith("| column"):
            name, dtype, required = [c.strip() for c in line.strip("|").split("|")][:3]
            default = re.search(r"no, `?([^`]+?)`?$", required)  # "no, `active`", "no, false"
            current["rows"].append((name, dtype, required.startswith("yes"),
                                    default[1] if default and "×" not in default[1] else None))
    return tables


spec_available = pytest.mark.skipif(not SPEC.exists(), reason="shared/spec not beside the repo")


@spec_available
def test_tables_keys_and_order_match_the_spec():
    spec = _spec_tables()
    assert list(TABLES) == list(spec)
    assert len(TABLES) == 14
    for name, table in TABLES.items():
        assert table.key == spec[name]["key"], name


@spec_available
def test_columns_types_required_and_defaults_match_the_spec():
    for name, spec in _spec_tables().items():
        table = TABLES[name]
        assert table.column_names == tuple(r[0] for r in spec["rows"]), name
        for column, dtype, required, default in spec["rows"]:
            col = table.column(column)
            expected_type = "code" if column in _CODES else _TYPES[dtype]
            assert col.dtype == expected_type, (name, column)
            assert col.required is required, (name, column)
            shown = str(col.default).lower() if col.default is not None else None
            assert shown == default, (name, column)


def test_keys_are_required_columns_and_quantities_are_nonnegative():
    for table in TABLES.values():
        for key in table.key:
            assert table.column(key).required or key == "source", (table.name, key)
        for col in table.columns:
            quantity = col.name == "units" or col.name.endswith("_units")
            money = col.name in {"gmv", "value", "amount", "unit_cost", "unit_price"}
            if quantity or money:
                assert col.nonnegative and col.dtype == "float", (table.name, col.name)


def test_every_bool_column_has_a_default():
    """Validation relies on it: a bool column never keeps a blank."""
    bools = [(t.name, c) for t in TABLES.values() for c in t.columns if c.dtype == "bool"]
    assert bools and all(c.default is not None for _, c in bools)


def test_code_choices_and_case():
    assert TABLES["batches"].column("status").choices == (
        "sellable", "defective", "locked", "unsellable")
    assert TABLES["returns"].column("reason").choices is None  # other reasons are allowed
    upper = [c.name for t in TABLES.values() for c in t.columns if c.upper_case]
    assert upper == ["abc_class"]
    assert TABLES["suppliers"].column("rating").maximum == 100


def test_unknown_column_is_a_key_error():
    with pytest.raises(KeyError, match="units"):
        TABLES["skus"].column("units")
