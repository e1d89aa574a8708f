"""Small shared expressions for KPI code (narwhals, so they run on pandas and polars alike)."""

from __future__ import annotations

import calendar
import datetime as dt

import narwhals.stable.v2 as nw
import numpy as np

NAN = float("nan")


def ratio(num: str | nw.Expr, den: str | nw.Expr) -> nw.Expr:
    """num / den, empty (NaN) when den is 0 — never 0, never an error (spec notation)."""
    num = nw.col(num) if isinstance(num, str) else num
    den = nw.col(den) if isinstance(den, str) else den
    return nw.when(den != 0).then(num / den).otherwise(nw.lit(NAN))


def month_of(column: str) -> nw.Expr:
    """'YYYY-MM' of a date column."""
    return nw.col(column).dt.to_string("%Y-%m")


def month_number(column: str) -> nw.Expr:
    """A 'YYYY-MM' column as months since year 0 (so month arithmetic is subtraction)."""
    col = nw.col(column)
    return col.str.slice(0, 4).cast(nw.Int64) * 12 + col.str.slice(5, 2).cast(nw.Int64) - 1


def day_number(column: str) -> nw.Expr:
    """A date column as whole days since 1970-01-01 (so day arithmetic is subtraction).

    Computed from year, month and day (H. Hinnant's days_from_civil: March-based years of
    365 days plus leap days, eras of 400 years = 146097 days) rather than from a duration's
    total_seconds, which Spark has no narwhals translation for; integer arithmetic only, so
    every engine gives the same numbers (dates from year 0 on: every // is on values ≥ 0)."""
    return _days_from_civil(column, nw.Int64)


def day_number_or_null(column: str) -> nw.Expr:
    """``day_number`` as a float, so a blank date stays empty on every engine (pandas has no
    null integer here): for optional date columns such as an expiry or a shipped date."""
    return _days_from_civil(column, nw.Float64)


def _days_from_civil(column: str, dtype) -> nw.Expr:
    date = nw.col(column)
    month = date.dt.month().cast(dtype)
    year = date.dt.year().cast(dtype) - (month <= 2).cast(dtype)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + date.dt.day().cast(dtype) - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return (era * 146097 + day_of_era - 719468).cast(dtype)


def month_str(number: int) -> str:
    """Inverse of month_number for one value."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_number_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def last_complete_month(last_day: dt.date) -> int:
    """Month number of the last month a table ending on ``last_day`` covers completely."""
    month = month_number_of(last_day)
    return month if last_day.day == calendar.monthrange(last_day.year, last_day.month)[1] else month - 1


def as_date(value) -> dt.date:
    """A scalar from a date column (pandas Timestamp, datetime, numpy datetime64, date) as a date."""
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").item()
    return value.date() if isinstance(value, dt.datetime) else value
