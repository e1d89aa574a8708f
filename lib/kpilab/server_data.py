"""Datasets that stay on the server: a Parquet folder or a ``.duckdb`` file too big to upload,
opened in place (DuckDB, out of core) — only under the roots an administrator allows.

The roots come from the environment variable ``KPILAB_DATA_ROOTS`` (paths separated by the
system's path separator, ``:`` on Linux); with none set, no server path can be opened. A path is
accepted when, with symlinks resolved, it lies inside one root, so ``..`` or a link cannot reach
outside.
"""

from __future__ import annotations

import os
from pathlib import Path

from kpilab.registry import KpiError, Note

ROOTS_VARIABLE = "KPILAB_DATA_ROOTS"


def allowed_roots() -> list[Path]:
    """The configured roots that exist, resolved."""
    text = os.environ.get(ROOTS_VARIABLE, "")
    return [Path(p).expanduser().resolve() for p in text.split(os.pathsep) if p.strip() and Path(p).expanduser().exists()]


def check_path(text: str, roots: list[Path] | None = None) -> Path:
    """The resolved dataset path, or a KpiError saying what is wrong and how to fix it.

    >>> import tempfile; root = Path(tempfile.mkdtemp()); (root / "big").mkdir()
    >>> check_path(str(root / "big"), [root]) == (root / "big").resolve()
    True
    >>> check_path(str(root / ".." / "etc"), [root])
    Traceback (most recent call last):
    ...
    kpilab.registry.KpiError: ... is outside the allowed folders ...
    """
    roots = allowed_roots() if roots is None else roots
    if not roots:
        raise KpiError(Note(f"No server folder is allowed: the administrator sets {ROOTS_VARIABLE} "
                            "(folders separated by ':') before starting the app.",
                            f"没有允许的服务器目录: 管理员需在启动应用前设置 {ROOTS_VARIABLE} (目录以 ':' 分隔)。"))
    path = Path(text.strip()).expanduser().resolve()
    if not any(path == root or root in path.parents for root in roots):
        raise KpiError(Note(f"{path} is outside the allowed folders ({', '.join(map(str, roots))}).",
                            f"{path} 不在允许的目录内 ({', '.join(map(str, roots))})。"))
    if not path.exists():
        raise KpiError(Note(f"{path} does not exist.", f"{path} 不存在。"))
    if path.is_file() and path.suffix != ".duckdb":
        raise KpiError(Note(f"{path} is a file: give a folder of Parquet files (one per table) or a "
                            ".duckdb file.", f"{path} 是文件: 请给出 Parquet 文件目录 (每表一个) 或 .duckdb 文件。"))
    return path
