"""Every analytic counts the same calls: hotspots, clusters, density, trends, agency performance,
the dashboard and the weekly and map reports, for the same window and category filter.

They all read ``incident_facts`` and count ``is_counted`` calls (no pranks, cancelled calls or
duplicates; app/services/analytics/common.py).  Planted into the demo city's last week: a
cancelled flood call, a duplicate flood report, a flood call flagged as a prank and a call in
the prank category, so each exclusion is exercised whatever the generator made.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import reports
from app.services.analytics import clusters as cl
from app.services.analytics import density as dens
from app.services.analytics import hotspots as hs
from app.services.analytics import performance as perf
from app.services.analytics import trends as tr
from app.services.analytics.common import Window
from geodata.demo import DemoCity, generate
from tests import users

UNTIL = date(2026, 11, 25)
LAST_DAY = date(2026, 11, 24)
WEEK = reports.week_window(ZoneInfo("Asia/Jakarta"), LAST_DAY)  # the seven WIB days of the weekly report
PLANT = """
INSERT INTO incidents (category_code, status, priority, source, received_at, kelurahan_id, kecamatan_id, is_prank,
                       duplicate_of, geom)
SELECT v.cat, v.status, 2, 'phone', :at, i.kelurahan_id, i.kecamatan_id, v.is_prank,
       CASE WHEN v.dup THEN i.id END, i.geom
FROM (SELECT * FROM incidents WHERE category_code = 'banjir' ORDER BY id LIMIT 1) i,
     (VALUES ('banjir', 'cancelled', false, false), ('banjir', 'received', false, true),
             ('banjir', 'received', true, false), ('prank', 'closed', false, false)) AS v(cat, status, is_prank, dup)
"""


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate(seed=112, scale="small", years=1, until=UNTIL)


def _truth(db: Session, w: Window, categories: list[str] | None) -> tuple[int, int]:
    """(counted calls, all calls) in the window and categories, straight from the read model."""
    return tuple(db.execute(text(
        "SELECT count(*) FILTER (WHERE is_counted), count(*) FROM incident_facts "
        "WHERE received_at >= :since AND received_at < :until "
        "AND (CAST(:cats AS text[]) IS NULL OR category = ANY(CAST(:cats AS text[])))"),
        {"since": w.since, "until": w.until, "cats": categories}).one())


def _query(w: Window, categories: list[str] | None) -> str:
    q = f"since={w.since.isoformat().replace('+', '%2B')}&until={w.until.isoformat().replace('+', '%2B')}"
    return q + (f"&category={','.join(categories)}" if categories else "")


def _surfaces(api, db: Session, w: Window, categories: list[str] | None) -> dict[str, int]:
    """What each surface says the number of incidents is, asked the way its users ask."""
    official = users.auth("official")  # the dashboard's reader
    q = _query(w, categories)

    def get(path: str) -> dict:
        res = api.get(f"/api/v1/analytics/{path}", headers=official)
        assert res.status_code == 200, res.get_json()
        return res.get_json()

    hot = get(f"hotspots?{q}&permutations=0")["summary"]
    trends = get(f"trends?{q}")
    out = {
        "hotspots": hot["incidents"] + hot["not_in_any_unit"],
        "hotspots_hex": hs.hotspots(db, hs.HotspotQuery(w, categories, unit="hex", permutations=0))["summary"][
            "incidents"],
        "clusters": get(f"clusters?{q}&min_points=2")["summary"]["incidents"],
        "density": get(f"density?{q}")["total"],
        "trends": trends["summary"]["incidents"],
        "trends_heatmap": sum(map(sum, trends["hour_by_weekday"]["counts"])),
        "performance": get(f"agency-performance?{q}")["summary"]["incidents"],
        # dashboard.js shows trends.summary.incidents as its first KPI, from the same request
        "dashboard": trends["summary"]["incidents"],
        "map_report": reports.map_report(db, categories, w.since, w.until).figures["incidents"],
    }
    if w == WEEK:
        out["weekly_report"] = reports.weekly_report(db, LAST_DAY, categories=categories).figures["incidents"]
    return out


@pytest.mark.parametrize("categories", [None, ["banjir", "rob"], ["kecelakaan"]])
def test_the_week_counts_the_same_calls_everywhere(api, db: Session, categories):
    db.execute(text(PLANT), {"at": WEEK.since.replace(hour=9)})
    counted, calls = _truth(db, WEEK, categories)
    assert counted > 0 and (categories == ["kecelakaan"] or calls >= counted + 3)
    got = _surfaces(api, db, WEEK, categories)
    assert got == dict.fromkeys(got, counted), (counted, got)


def test_a_season_counts_the_same_calls_everywhere(api, db: Session):
    w = Window(WEEK.since.replace(year=2025, month=12, day=1), WEEK.since.replace(year=2026, month=3, day=1))
    counted, calls = _truth(db, w, ["banjir", "rob", "pohon_tumbang"])
    assert counted > 100 and calls > counted
    got = _surfaces(api, db, w, ["banjir", "rob", "pohon_tumbang"])
    assert got == dict.fromkeys(got, counted), (counted, got)
    # the prank rate is the one series of calls, and says so
    t = tr.trends(db, tr.TrendQuery(w))
    assert t["summary"]["calls"] > t["summary"]["incidents"] and t["summary"]["pranks"] > 0
    assert perf.performance(db, perf.PerformanceQuery(w))["parameters"]["excludes"] == ["cancelled", "prank",
                                                                                         "duplicate"]
    assert cl.clusters(db, cl.ClusterQuery(w))["parameters"]["excludes"] == \
        dens.density(db, dens.DensityQuery(w))["parameters"]["excludes"]


def test_exports_and_reports_carry_no_caller_data(api, db: Session):
    """The week's callers (names and phones in the demo data) appear in no analytic answer, export or report,
    even for an admin, who may see callers' data elsewhere: none of these surfaces carries it, so none
    writes a read_audit row."""
    callers = db.execute(text(
        "SELECT caller_name, caller_phone FROM incidents WHERE received_at >= :since AND received_at < :until "
        "AND caller_phone IS NOT NULL"), {"since": WEEK.since, "until": WEEK.until}).all()
    assert len(callers) > 20
    # full names only: a one-word name ("Indah") is also a kelurahan or street name
    secrets = {p for _, p in callers} | {n for n, _ in callers if n and " " in n}
    q = _query(WEEK, None)
    bodies = [api.get(f"/api/v1/analytics/{path}").get_data(as_text=True) for path in (
        f"clusters?{q}&min_points=2&format=csv&per=incident&noise=1", f"clusters?{q}&min_points=2&format=csv",
        f"clusters?{q}&min_points=2&format=geojson", f"hotspots?{q}&permutations=0", f"density?{q}",
        f"trends?{q}", f"agency-performance?{q}", f"clusters/1/cap?{q}&min_points=2")]
    assert "incident_id" in bodies[0] and len(bodies[0].splitlines()) > 20
    bodies += [reports.weekly_report(db, LAST_DAY).html, reports.map_report(db, None, WEEK.since, WEEK.until).html]
    audited = db.execute(text("SELECT count(*) FROM read_audit")).scalar_one()
    for body in bodies:
        leaked = [s for s in secrets if s in body]
        assert not leaked, leaked[:3]
    assert db.execute(text("SELECT count(*) FROM read_audit")).scalar_one() == audited
