"""BPBD's and officials' screens on the server: CAP alerts as readable pages, cluster defaults at
kelurahan scale, and support agencies measured on their own task targets.

A small demo city (one year) is loaded once for the module, as in test_analytics.py.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.analytics import clusters as cl
from app.services.analytics import performance as perf
from app.services.analytics.common import make_window
from geodata.demo import DemoCity, generate
from tests import users

WIB = ZoneInfo("Asia/Jakarta")  # the demo city's clock (no city_profile row)

UNTIL = date(2026, 11, 25)
RAINY = ("2025-12-01T00:00:00+07:00", "2026-03-01T00:00:00+07:00")
YEAR = ("2025-11-25T00:00:00+07:00", "2026-11-25T00:00:00+07:00")
CLUSTER_Q = f"category=banjir,rob&since={RAINY[0][:10]}&until={RAINY[1][:10]}"


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate(seed=112, scale="small", years=1, until=UNTIL)


def _window(since: str, until: str):
    from datetime import datetime
    return make_window(datetime.fromisoformat(since), datetime.fromisoformat(until), 30, WIB)


# -- CAP alerts as pages ------------------------------------------------------------------------
def test_flood_alert_page_is_readable_html_with_a_download_link(api, city: DemoCity):
    kel = city.manifest["flood_prone_kelurahan"][0]
    state = api.put(f"/api/v1/flood-states/{kel}", json={"level": 3, "note": "Air 1 m di RW 02"},
                    headers=users.auth("bpbd")).get_json()
    page = api.get(f"/alerts/flood/{state['id']}", headers={})  # public, like the XML
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Banjir 71-150 cm di Kelurahan" in html and "Air 1 m di RW 02" in html
    assert 'data-i18n="cap.Severe"' in html and "<polygon points=" in html
    link = re.search(r'<a id="alert-download"[^>]*href="([^"]+)"[^>]*download="([^"]+)"', html)
    assert link and link.group(1) == f"/api/v1/cap/flood/{state['id']}.xml"
    assert link.group(2) == f"peta112-bpbd-flood-{state['id']}.xml"
    xml = api.get(link.group(1))
    assert xml.status_code == 200 and xml.mimetype == "application/cap+xml"
    # Once cleared the alert is gone from the page as from the feed.
    assert api.delete(f"/api/v1/flood-states/{kel}", headers=users.auth("bpbd")).status_code == 200
    gone = api.get(f"/alerts/flood/{state['id']}")
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"


def test_cluster_alert_page_keeps_the_query_in_its_download_link(api):
    page = api.get(f"/alerts/cluster/1?{CLUSTER_Q}&eps_m=150", headers=users.auth("bpbd"))
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    href = re.search(r'<a id="alert-download"[^>]*href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert href.startswith("/api/v1/analytics/clusters/1/cap?") and "eps_m=150" in href and "category=banjir" in href
    xml = api.get(href, headers=users.auth("bpbd"))
    assert xml.status_code == 200 and xml.mimetype == "application/cap+xml"
    ident = re.search(r"<identifier>([^<]+)</identifier>", xml.get_data(as_text=True)).group(1)
    assert ident in html  # the page and the file are the same alert


def test_cluster_alert_reads_in_indonesian_numbers_and_the_city_clock(api):
    """The alert's text is read by people: "1.500 m", "9 Des 2025 07.15 WIB", not "1500" and ISO times."""
    page = api.get(f"/alerts/cluster/1?{CLUSTER_Q}&eps_m=1500&within=city", headers=users.auth("bpbd"))
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    assert "(radius 1.500 m)" in html
    assert re.search(r"antara \d{1,2} (Des|Jan|Feb|Mar) 20\d\d \d\d\.\d\d WIB dan ", html), html[:2000]
    assert "+07:00 dan" not in html


@pytest.mark.parametrize(("who", "status"), [("t_damkar", 403), ("call_taker", 403), ("official", 200)])
def test_cluster_alert_page_is_for_analysts(api, who: str, status: int):
    assert api.get(f"/alerts/cluster/1?{CLUSTER_Q}", headers=users.auth(who)).status_code == status


@pytest.mark.parametrize(("query", "field"), [("eps_m=5", "eps_m"), ("min_points=1", "min_points"),
                                              ("category=nope", "category"), ("within=world", "within")])
def test_cluster_alert_page_bad_input_is_a_problem_naming_the_field(api, query: str, field: str):
    resp = api.get(f"/alerts/cluster/1?{query}", headers=users.auth("bpbd"))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["field"] == field


def test_missing_cluster_is_404(api):
    resp = api.get(f"/alerts/cluster/999?{CLUSTER_Q}", headers=users.auth("bpbd"))
    assert resp.status_code == 404 and resp.get_json()["field"] == "cluster"


# -- cluster defaults ------------------------------------------------------------------------------
def test_default_clusters_are_no_wider_than_a_kelurahan(db: Session):
    """With the API's defaults every cluster lies in one kelurahan (the unit BPBD sets flood states
    for) and is no larger than it; across the city with the old 250 m they straddle several."""
    areas = dict(db.execute(text("SELECT code, ST_Area(ST_Transform(geom, 32749)) FROM admin_areas "
                                 "WHERE level = 'kelurahan'")).all())
    res = cl.clusters(db, cl.ClusterQuery(_window(*RAINY), ["banjir", "rob"]), 32749)
    assert res["features"] and res["parameters"]["eps_m"] == cl.DEFAULT_EPS_M
    assert res["parameters"]["within"] == "kelurahan"
    for f in res["features"]:
        (kel,) = f["properties"]["kelurahan"]
        assert f["properties"]["area_m2"] <= 1.25 * areas[kel["code"]], f["properties"]  # hull + 20 m margin
    wide = cl.clusters(db, cl.ClusterQuery(_window(*RAINY), ["banjir", "rob"], eps_m=250, within="city"), 32749)
    assert max(len(f["properties"]["kelurahan"]) for f in wide["features"]) > 1


def test_cluster_parameter_form_matches_the_api(api):
    """The map's form for BPBD (layers/clusters.toml [[params]]) starts at the API's defaults, its
    bounds are the API's (the form's extremes are accepted, one step beyond is a 422 naming the
    field), and only roles that may ask for clusters are offered it."""
    from app.layers import registry
    from app.web.policy import POLICY

    layer = registry()["clusters"]
    params = {p["name"]: p for p in layer.extra["params"]}
    assert set(params) == {"eps_m", "min_points", "window_days", "within"}
    assert params["eps_m"]["default"] == cl.DEFAULT_EPS_M and params["min_points"]["default"] == cl.DEFAULT_MIN_POINTS
    assert params["window_days"]["default"] == layer.extra["window_days"]
    assert [c["value"] for c in params["within"]["choices"]] == list(cl.WITHIN)
    assert params["within"]["default"] == cl.ClusterQuery.__dataclass_fields__["within"].default
    assert all({"id", "en"} <= p["label"].keys() for p in params.values())
    assert layer.extra["params_endpoint"] in POLICY
    base = f"/api/v1/analytics/clusters?{CLUSTER_Q}"
    for name in ("eps_m", "min_points"):
        p = params[name]
        for value in (p["min"], p["max"]):
            ok = api.get(f"{base}&{name}={value}", headers=users.auth("bpbd"))
            assert ok.status_code == 200, (name, value, ok.get_data(as_text=True)[:200])
        bad = api.get(f"{base}&{name}={p['min'] - p['step']}", headers=users.auth("bpbd"))
        assert bad.status_code == 422 and bad.get_json()["field"] == name
    from app.services.analytics.common import MAX_WINDOW_DAYS
    assert params["window_days"]["min"] >= 1 and params["window_days"]["max"] == MAX_WINDOW_DAYS


# -- targets that fit the job ------------------------------------------------------------------------
def _groups(db: Session) -> dict[str, dict]:
    res = perf.performance(db, perf.PerformanceQuery(window=_window(*YEAR)))
    return {g["agency"]: g for g in res["groups"]}


def test_support_agencies_are_measured_on_their_own_task_targets(db: Session):
    groups = _groups(db)
    for agency in ("PLN", "DISHUB"):
        arrival = groups[agency]["compliance"]["arrival"]
        assert arrival["basis"] == ["task target (category_agencies.task_target_s)"], agency
        assert arrival["from"] == "forwarded" and arrival["target_s"] >= 30 * 60
        # Measured against the fire's or the accident's target from the call, nearly none were on time.
        assert arrival["share"] > 0.5, (agency, arrival)
    damkar = groups["DAMKAR"]["compliance"]["arrival"]
    assert "agency target" in damkar["basis"]  # fires: the NFPA-style 8 minutes, unchanged
    assert groups["POLRI"]["compliance"]["arrival"]["from"] == "mixed"  # own crimes from the call, fires' cordon


def test_a_city_changes_a_task_target_with_one_update(db: Session):
    before = _groups(db)["PLN"]["compliance"]["arrival"]
    db.execute(text("UPDATE category_agencies SET task_target_s = 60 WHERE agency_code = 'PLN'"))
    after = _groups(db)["PLN"]["compliance"]["arrival"]
    assert after["target_s"] == 60 and after["share"] < before["share"]


# -- the weekly report in the browser -------------------------------------------------------------
def test_weekly_report_over_http_matches_the_cli_figures(api, db: Session):
    from app.services.reports import weekly_report

    resp = api.get(f"/api/v1/analytics/weekly-report?until={UNTIL}", headers=users.auth("official"))
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox allow-scripts") and "connect-src" not in csp and "default-src 'none'" in csp
    html = resp.get_data(as_text=True)
    figures = weekly_report(db, UNTIL).figures
    kpi = re.search(r'<div class="kpi"><b>([\d.]+)</b>', html).group(1)
    assert int(kpi.replace(".", "")) == figures["incidents"] > 0
    # Shares and times in Indonesian: a decimal comma, never "28.7%".
    assert re.search(r"\d+,\d%", html) and not re.search(r">\d+\.\d%<", html)
    assert "attachment" not in resp.headers.get("Content-Disposition", "")
    saved = api.get(f"/api/v1/analytics/weekly-report?until={UNTIL}&download=1", headers=users.auth("official"))
    assert saved.headers["Content-Disposition"] == 'attachment; filename="laporan-mingguan-112-2026-11-25.html"'


@pytest.mark.parametrize(("query", "field"), [("until=2026-13-01", "until"), ("lang=fr", "lang"),
                                              ("category=nope", "category")])
def test_weekly_report_bad_input_names_the_field(api, query: str, field: str):
    resp = api.get(f"/api/v1/analytics/weekly-report?{query}", headers=users.auth("official"))
    assert resp.status_code == 422 and resp.get_json()["field"] == field


@pytest.mark.parametrize(("who", "status"), [("t_damkar", 403), ("call_taker", 403), ("bpbd", 200)])
def test_weekly_report_is_for_analysts(api, who: str, status: int):
    assert api.get(f"/api/v1/analytics/weekly-report?until={UNTIL}", headers=users.auth(who)).status_code == status
