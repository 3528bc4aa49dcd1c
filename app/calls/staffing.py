"""Operators, shifts and how many call-takers each hour of the week needs.

A supervisor rosters call-takers in shifts (pagi 07-15, siang 15-23, malam 23-07 local
time by default) and answers to the city for how fast 112 is picked up.  From the calls
of the last weeks this module gives the load of every hour of the week (calls per hour,
handle time, how many were answered in time, how many operators answered) and the
Erlang C recommendation for it (app/calls/erlang.py), and per shift and per operator
what was offered, answered, abandoned, how fast and how long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.calls import erlang
from app.city.profile import city_zone
from app.db import sqlfiles

PACKAGE, FILE = "app.calls", "sql/staffing.sql"
# Local hours the three shifts start (a city with other shifts changes them here).
SHIFT_STARTS = {"pagi": 7, "siang": 15, "malam": 23}
MIN_HANDLED = 5  # fewer answered calls in an hour slot than this: use the window's handle time
DEFAULT_AHT_S = 90.0  # with no answered call at all (a new centre): a typical 112 call


def _sql(name: str) -> Any:
    return sqlfiles.statement(PACKAGE, FILE, name)


def _num(v: Any, digits: int = 1) -> float | None:
    return None if v is None else round(float(v), digits)


@dataclass(frozen=True)
class Target:
    """The service level the centre promises: ``share`` of calls answered within ``within_s``."""

    share: float = 0.9
    within_s: float = 10.0
    max_occupancy: float = 0.85
    shrinkage: float = 0.3
    minimum: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"service_level": self.share, "answer_within_s": self.within_s, "max_occupancy": self.max_occupancy,
                "shrinkage": self.shrinkage, "minimum_operators": self.minimum}


def _params(since: datetime, until: datetime, target: Target, tz: str) -> dict[str, Any]:
    return {"since": since, "until": until, "tz": tz, "within": target.within_s,
            **SHIFT_STARTS}


def staffing(session: Session, until: datetime, weeks: int, target: Target) -> dict[str, Any]:
    """The hour-of-week load of the last ``weeks`` weeks before ``until`` and operators needed per hour."""
    since = until - timedelta(weeks=weeks)
    tz = city_zone(session).key  # hours of the week and shifts on the city's clock
    p = _params(since, until, target, tz)
    overall = dict(session.execute(_sql("overall"), p).mappings().one())
    window_aht = float(overall["aht_s"]) if overall["aht_s"] is not None else DEFAULT_AHT_S
    slots = {(r["dow"], r["hour"]): r for r in session.execute(_sql("load_profile"), p).mappings()}
    hours = []
    for dow in range(1, 8):
        for hour in range(24):
            r = slots.get((dow, hour))
            offered = int(r["offered"]) if r else 0
            handled = int(r["handled"]) if r else 0
            aht = float(r["aht_s"]) if r and handled >= MIN_HANDLED else window_aht
            rec = erlang.required(offered / weeks, aht, target.share, target.within_s, target.max_occupancy,
                                  target.shrinkage, target.minimum)
            hours.append({
                "dow": dow, "hour": hour, "offered": offered,
                "answered": int(r["answered"]) if r else 0, "abandoned": int(r["abandoned"]) if r else 0,
                "calls_per_hour": round(offered / weeks, 2), "aht_s": round(aht, 1),
                "aht_from": "hour" if r and handled >= MIN_HANDLED else "window",
                "measured_service_level": round(int(r["answered_within"]) / offered, 3) if offered else None,
                "operators_seen": round(int(r["operator_hours"]) / weeks, 2) if r else 0.0,
                "recommended": rec.as_dict(),
            })
    offered = int(overall["offered"])
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat(), "weeks": weeks, "time_zone": tz},
        "target": target.as_dict(),
        "method": "Erlang C (Poisson arrivals, exponential handle times, callers wait); calls_per_hour is the mean "
                  "over the window's weeks for that hour of the week",
        "totals": {"offered": offered, "answered": int(overall["answered"]), "abandoned": int(overall["abandoned"]),
                   "aht_s": _num(overall["aht_s"]), "asa_s": _num(overall["asa_s"]),
                   "measured_service_level": round(int(overall["answered_within"]) / offered, 3) if offered else None},
        "peak": max(hours, key=lambda h: (h["recommended"]["agents"], h["calls_per_hour"])),
        "hours": hours,
    }


def _clean(row: Any) -> dict[str, Any]:
    out = {}
    for k, v in dict(row).items():
        if k in ("asa_s", "aht_s", "answer_p90_s", "talk_s"):
            out[k] = _num(v)
        elif hasattr(v, "isoformat"):
            out[k] = v.isoformat()
        else:
            out[k] = v
    return out


def operators(session: Session, since: datetime, until: datetime, target: Target) -> dict[str, Any]:
    """Per shift and per operator and shift, in the window."""
    tz = city_zone(session).key  # hours of the week and shifts on the city's clock
    p = _params(since, until, target, tz)
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat(), "time_zone": tz},
        "shift_starts": SHIFT_STARTS, "answer_within_s": target.within_s,
        "shifts": [_clean(r) for r in session.execute(_sql("shifts"), p).mappings()],
        "operators": [_clean(r) for r in session.execute(_sql("operators"), p).mappings()],
    }
