"""The command line: ``kpilab compute | catalog | validate | generate | contract`` (also
``python -m kpilab``).

Errors go to standard error as one clear sentence, with a non-zero exit: 2 for a bad request
(unknown KPI, definition, parameter or grouping column), 1 for data that cannot be used.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import sys
from pathlib import Path

import narwhals.stable.v2 as nw


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except Exception as exc:  # one clear line for every expected failure, no traceback
        from kpilab.registry import KpiError

        code = 2 if isinstance(exc, KpiError) else 1
        print(f"kpilab {args.command}: {exc}", file=sys.stderr)
        return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kpilab", description="Compare supply-chain KPI definitions.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compute", help="print one KPI definition's result table")
    p.add_argument("kpi")
    p.add_argument("--definition", required=True)
    p.add_argument("--data", required=True, help="dataset folder, workbook or file")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--by", action="append", default=[], metavar="COLUMN")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--mapping", help="column mapping saved as JSON")
    _engine_options(p)
    p.set_defaults(run=_compute)

    p = sub.add_parser("catalog", help="list every KPI, definition and parameter")
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.set_defaults(run=_catalog)

    p = sub.add_parser("validate", help="print the validation report of a dataset")
    p.add_argument("data")
    p.add_argument("--mapping", help="column mapping saved as JSON")
    _engine_options(p)
    p.set_defaults(run=_validate)

    p = sub.add_parser("generate", help="write a simulated sample dataset")
    p.add_argument("out")
    p.add_argument("--skus", type=int)
    p.add_argument("--warehouses", type=int)
    p.add_argument("--days", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--chunk-skus", type=_positive_int, metavar="N",
                   help="simulate and write the SKUs in chunks of N on average, so memory is bounded by one "
                        "chunk (default: about 4 million SKU × warehouse × days per chunk, ≈ 1.2 GB); "
                        "another N gives another draw of the same operation")
    p.set_defaults(run=_generate)

    p = sub.add_parser("contract", help="print the data contract as Markdown (docs/data-contract.md)")
    p.add_argument("-o", "--out", help="write it to this file instead")
    p.set_defaults(run=_contract)
    return parser


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("auto", "pandas", "polars", "duckdb", "spark"), default="auto",
                   help="where the data is read, validated and computed (default auto: polars, or DuckDB "
                        "for files over 2 GB)")
    p.add_argument("--grain", choices=("auto", "daily", "monthly"), default="auto",
                   help="sales are daily rows or monthly totals (default auto: the mapping's, else detected)")
    p.add_argument("--spark-remote", metavar="URL",
                   help="Spark Connect server, e.g. sc://host:15002 (default: $SPARK_REMOTE); with --engine spark")
    p.add_argument("--spark-master", metavar="URL",
                   help="Spark master, e.g. spark://host:7077 or yarn (default: local[2]); with --engine spark")


def _params(pairs: list[str]) -> dict[str, str]:
    from kpilab.registry import KpiError

    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise KpiError(f"--param needs NAME=VALUE, got {pair!r}")
        params[name.strip()] = value
    return params


@contextlib.contextmanager
def _progress(total: int):
    """Yields ``step(text)``: names the step starting now and counts the one before as done. A
    tqdm bar on standard error when it is a terminal (cleared at the end); nothing at all when
    standard error is piped or redirected, so scripts and logs see only results and notes."""
    if not sys.stderr.isatty():
        yield lambda text: None
        return
    import shutil

    from tqdm import tqdm

    size = shutil.get_terminal_size()       # 80 × 24 on a terminal that reports no size (tqdm would draw nothing)
    with tqdm(total=total, file=sys.stderr, leave=False, ncols=size.columns, nrows=size.lines,
              bar_format="{desc}: {bar} {n_fmt}/{total_fmt} · {elapsed}") as bar:
        started = False

        def step(text: str) -> None:
            nonlocal started
            if started:
                bar.update(1)
            started = True
            bar.set_description_str(text)

        yield step
        bar.update(1)


def _load(data: str, mapping: str | None, args):
    from kpilab.dataset import load_dataset

    if not Path(data).exists():
        raise FileNotFoundError(f"no dataset at {data}")
    if args.engine == "spark":          # the session the dataset's tables will live on
        from kpilab.engines import spark_session

        spark_session(master=args.spark_master, remote=args.spark_remote)
    return load_dataset(data, mapping=mapping, engine=args.engine, grain=args.grain)


def _check_engine(args) -> None:
    """Spark options only make sense with the Spark engine: say so instead of ignoring them."""
    from kpilab.registry import KpiError

    given = [o for o, v in (("--spark-remote", args.spark_remote), ("--spark-master", args.spark_master)) if v]
    if given and args.engine != "spark":
        raise KpiError(f"{' and '.join(given)} only {'work' if len(given) > 1 else 'works'} with --engine spark")
    if args.spark_remote and args.spark_master:
        raise KpiError("choose --spark-remote (Spark Connect) or --spark-master, not both")


def _compute(args) -> int:
    from kpilab.engine import compute
    from kpilab.kpis import get_kpi

    kpi = get_kpi(args.kpi)
    kpi.definition(args.definition)
    params = _params(args.param)
    kpi.resolve_params(params)          # reject a bad request before reading any data
    _check_engine(args)
    with _progress(2) as step:
        step(f"reading and validating {args.data}")
        dataset = _load(args.data, args.mapping, args)
        step(f"computing {kpi.id} ({args.definition})")
        result = compute(dataset, kpi, args.definition, by=args.by, **params)
    frame = nw.from_native(result.table, eager_only=True).to_pandas()
    if args.format == "json":
        rows = [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            writer.writerow([_csv_value(v) for v in row])
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _csv_value(v) -> str:
    """Full precision (round-trip repr), NaN as empty, infinity as inf."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if hasattr(v, "item"):                 # numpy scalars
        return _csv_value(v.item())
    return str(v)


def _json_value(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def _catalog(args) -> int:
    from kpilab.kpis import REGISTRY

    if args.format == "json":
        json.dump([k.to_json() for k in REGISTRY.values()], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for kpi in REGISTRY.values():
        print(f"{kpi.id}  [{kpi.family}]  {kpi.name.en} / {kpi.name.zh}")
        for d in kpi.definitions:
            print(f"    {d.id:<20} {d.formula}")
        params = ", ".join(f"{p.name}={p.to_json()['default']}" for p in kpi.params)
        print(f"    parameters: {params}")
    return 0


def _validate(args) -> int:
    from kpilab.engine import missing_inputs
    from kpilab.kpis import REGISTRY

    _check_engine(args)
    with _progress(1) as step:
        step(f"reading and validating {args.data}")
        dataset = _load(args.data, args.mapping, args)
    report = dataset.report
    print(report.to_text())
    print()
    blocked = {k.id: missing_inputs(k, dataset) for k in REGISTRY.values()}
    usable = [k for k, missing in blocked.items() if not missing]
    print(f"KPIs this dataset can feed: {len(usable)} of {len(blocked)}")
    for kpi_id, missing in blocked.items():
        if missing:
            print(f"  {kpi_id}: needs {', '.join(missing)}")
    return 0 if report.usable and usable else 1


def _positive_int(text: str) -> int:
    """argparse type of --chunk-skus: a whole number ≥ 1 (anything else exits 2 with usage)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number ≥ 1, got {text!r}")
    return value


def _generate(args) -> int:
    from kpilab.simulate import generate

    options = {k: getattr(args, k) for k in ("skus", "warehouses", "days", "seed") if getattr(args, k) is not None}
    paths = generate(args.out, fmt=args.format, chunk_skus=args.chunk_skus, **options)
    print(f"wrote {len(paths)} tables to {args.out}")
    return 0


def _contract(args) -> int:
    from kpilab.contract import render_markdown

    text = render_markdown()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote the data contract to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
