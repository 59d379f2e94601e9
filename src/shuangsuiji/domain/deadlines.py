"""Working-day deadlines: when results should be public, when a follow-up is due.

Practice, not regulation: the 细则 says results are published (第十五条) but sets no period;
20 working days (工作日) after the inspection is the usual practice of the national enterprise
credit publicity system, and is configurable (SHUANGSUIJI_PUBLISH_WORKING_DAYS). Working days
come from the State Council's holiday schedule as kept by PyPI `chinese-calendar` (holidays and
the weekend days worked in exchange, 调休). That package knows only the years whose schedule
has been announced; for a day beyond them the count falls back to Monday–Friday and the due
date is marked ``exact=False`` (shown as 预计 / estimated) — never an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_WORKING_DAYS = 20
ENV = "SHUANGSUIJI_PUBLISH_WORKING_DAYS"


class WorkingDaysError(ValueError):
    """The configured number of working days is not a whole number from 1 to 365."""


def configured_days(environ=os.environ) -> int:
    raw = environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_WORKING_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise WorkingDaysError(f"{ENV}={raw!r}: must be a whole number of working days from 1 to 365")
    return int(raw)


@dataclass(frozen=True)
class Due:
    on: str  # ISO date
    exact: bool  # False: some day counted lies beyond the holiday calendar (counted Monday–Friday)


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working day?, known from the holiday calendar?)."""
    import chinese_calendar  # imported when needed: keeps start-up fast

    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:  # a year whose schedule the package does not have
        return day.weekday() < 5, False


def add_working_days(start: str, days: int) -> Due:
    """The date ``days`` working days after ``start`` (the day after it is the first counted)."""
    day, left, exact = date.fromisoformat(start), days, True
    while left > 0:
        day += timedelta(days=1)
        working, known = is_working_day(day)
        exact = exact and known
        left -= working
    return Due(day.isoformat(), exact)


def timeliness(due: Due, published_on: str | None, today: str) -> str:
    """on_time | late | overdue | pending, for one result to be published by ``due``."""
    if published_on is not None:
        return "on_time" if published_on <= due.on else "late"
    return "overdue" if today > due.on else "pending"
