"""contract.TABLES must say exactly what shared/spec/data-contract.md says."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpilab.contract import TABLES, render_markdown

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

# Issue 12 extends the spec's contract: a backorders table and skus.oos_policy.
ADDED_TABLES = ("backorders",)
ADDED_COLUMNS = {"skus": ("oos_policy",)}


def _spec_part(table) -> tuple[str, ...]:
    """The table's columns that the spec declares (without the issue-12 additions)."""
    return tuple(c for c in table.column_names if c not in ADDED_COLUMNS.get(table.name, ()))


@spec_available
def test_tables_keys_and_order_match_the_spec():
    spec = _spec_tables()
    assert [t for t in TABLES if t not in ADDED_TABLES] == list(spec)
    assert len(TABLES) == 15
    for name, table in TABLES.items():
        if name not in ADDED_TABLES:
            assert table.key == spec[name]["key"], name


@spec_available
def test_columns_types_required_and_defaults_match_the_spec():
    for name, spec in _spec_tables().items():
        table = TABLES[name]
        assert _spec_part(table) == tuple(r[0] for r in spec["rows"]), name
        for column, dtype, required, default in spec["rows"]:
            col = table.column(column)
            expected_type = "code" if column in _CODES else _TYPES[dtype]
            assert col.dtype == expected_type, (name, column)
            assert col.required is required, (name, column)
            shown = str(col.default).lower() if col.default is not None else None
            assert shown == default, (name, column)


def test_backorders_extension_as_issue_12_defines_it():
    backorders = TABLES["backorders"]
    assert backorders.key == ("sub_order_id",)
    assert [(c.name, c.dtype, c.required) for c in backorders.columns] == [
        ("sub_order_id", "str", True), ("backordered_units", "float", True),
        ("backorder_date", "date", True), ("promised_date", "date", True),
        ("shipped_date", "date", False), ("cancelled_date", "date", False)]
    policy = TABLES["skus"].column("oos_policy")
    assert (policy.dtype, policy.required, policy.default) == ("code", False, "none")
    assert policy.choices == ("backorderable", "substitutable", "none")
    # checked after orders, so its references to orders can be checked
    assert list(TABLES).index("backorders") > list(TABLES).index("orders")


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


DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def test_docs_data_contract_is_the_rendered_declaration():
    """docs/data-contract.md is generated from TABLES: regenerate it after changing the contract."""
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-contract.md differs from lib/kpilab/contract.py: run "
        "`kpilab contract -o docs/data-contract.md`")


def test_rendered_contract_carries_every_column_key_default_and_meaning():
    text = render_markdown()
    for table in TABLES.values():
        section = text.split(f"\n### {table.name}\n", 1)[1].split("\n### ", 1)[0]
        assert f"Key: {', '.join(f'`{k}`' for k in table.key)}." in section
        rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
        assert [r.split(" | ")[0].strip("| ") for r in rows] == list(table.column_names)
        for note in table.notes:
            assert note in section
    plans = text.split("\n### plans\n", 1)[1].split("\n### ", 1)[0]
    assert ("| source | code | no | `plan` | plan (confirmed by people) or forecast (proposed by "
            "an algorithm) — one of plan, forecast |") in plans
    assert "| value | float ≥ 0 | no | on_hand_units × skus.unit_cost | inventory value at cost |" \
        in text
    assert "| rating | float 0–100 | no | empty | overall supplier score 0–100 |" in text
    assert "Booleans accept true/false, 1/0, yes/no, y/n, 是/否." in text


@spec_available
def test_meanings_carry_the_spec_text():
    """Each non-empty meaning in the spec's tables appears in the declared meaning (or choices)."""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not line.startswith("| ") or len(cells) != 4 or cells[0] in ("column", "---"):
            continue
        name, meaning = cells[0], cells[3]
        owners = [t.column(name) for t in TABLES.values() if name in t.column_names]
        words = set(re.findall(r"[a-z_]{4,}", meaning.lower()))
        declared = " ".join(f"{c.meaning} {' '.join(c.choices or ())} {c.computed}".lower()
                            for c in owners)
        assert words <= set(re.findall(r"[a-z_]{4,}", declared)), (name, words - set(
            re.findall(r"[a-z_]{4,}", declared)))


def test_cli_writes_the_document(tmp_path, capsys):
    from kpilab.cli import main

    assert main(["contract", "-o", str(tmp_path / "c.md")]) == 0
    assert (tmp_path / "c.md").read_text(encoding="utf-8") == render_markdown()
    assert main(["contract"]) == 0
    assert capsys.readouterr().out.endswith(render_markdown())
