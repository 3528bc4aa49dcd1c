"""Analytics API: clusters (GeoJSON, CSV, CAP 1.2), hotspots, agency performance, trends, density.

Thin: parse and validate query parameters (422 naming the field), call
app.services.analytics, pick the representation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, current_app, jsonify, request

from app.city.profile import city_zone
from app.db import get_session
from app.services import reports
from app.services.analytics import clusters as cl
from app.services.analytics import density as dens
from app.services.analytics import hotspots as hs
from app.services.analytics import performance as perf
from app.services.analytics import trends as tr
from app.services.analytics.common import Window, make_window
from app.services.errors import InvalidInput
from app.web.api import bp
from app.web.api.incidents import _int_arg, _list_arg, _parse_time

DEFAULT_DAYS = {"clusters": cl.DEFAULT_WINDOW_DAYS, "hotspots": 365, "performance": 365, "trends": 365, "density": 30}


def _utm_epsg() -> int:
    return current_app.extensions["peta112.settings"].utm_epsg


def _window(kind: str) -> Window:
    return make_window(_parse_time(request.args.get("since"), "since"),
                       _parse_time(request.args.get("until"), "until"), DEFAULT_DAYS[kind],
                       city_zone(get_session().connection()))


def _float_arg(name: str, default: float, lo: float, hi: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", name) from None
    if not lo <= v <= hi:
        raise InvalidInput(f"{name} must be between {lo:g} and {hi:g}", name)
    return v


def _choice_arg(name: str, default: str, choices: tuple[str, ...]) -> str:
    v = request.args.get(name) or default
    if v not in choices:
        raise InvalidInput(f"{name} must be one of {'|'.join(choices)}", name)
    return v


def _cluster_query() -> cl.ClusterQuery:
    return cl.ClusterQuery(
        window=_window("clusters"), categories=_list_arg("category"),
        eps_m=_float_arg("eps_m", cl.DEFAULT_EPS_M, 10, 5000),
        min_points=_int_arg("min_points", cl.DEFAULT_MIN_POINTS, 2, 10_000),
        hull=_choice_arg("hull", "convex", cl.HULLS), within=_choice_arg("within", "kelurahan", cl.WITHIN),
    )


@bp.get("/analytics/clusters")
def analytics_clusters():
    fmt = _choice_arg("format", "json", ("json", "geojson", "csv"))
    q = _cluster_query()
    session = get_session()
    if fmt == "csv":
        per = _choice_arg("per", "cluster", ("cluster", "incident"))
        body = cl.clusters_csv(session, q, _utm_epsg(), per=per,
                               include_noise=request.args.get("noise") in ("1", "true"))
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="clusters-{per}.csv"'})
    resp = jsonify(cl.clusters(session, q, _utm_epsg()))
    if fmt == "geojson":
        resp.mimetype = "application/geo+json"
    return resp


@bp.get("/analytics/clusters/<int:number>/cap")
def analytics_cluster_cap(number: int):
    q = _cluster_query()
    extra = current_app.extensions["peta112.settings"].extra
    xml = cl.cap_alert(get_session(), q, number, _utm_epsg(),
                       sender=extra.get("cap_sender", cl.DEFAULT_SENDER),
                       sender_name=extra.get("cap_sender_name", cl.DEFAULT_SENDER_NAME))
    return Response(xml, mimetype="application/cap+xml")


@bp.get("/analytics/hotspots")
def analytics_hotspots():
    q = hs.HotspotQuery(
        window=_window("hotspots"), categories=_list_arg("category"),
        unit=_choice_arg("unit", "kelurahan", hs.UNITS), hex_m=_float_arg("hex_m", 500.0, 50, 5000),
        permutations=_int_arg("permutations", hs.DEFAULT_PERMUTATIONS, 0, 99_999),
        seed=_int_arg("seed", hs.DEFAULT_SEED, 0, 2**32 - 1), null=_choice_arg("null", "conditional", hs.NULLS),
    )
    return jsonify(hs.hotspots(get_session(), q, _utm_epsg()))


@bp.get("/analytics/agency-performance")
def analytics_agency_performance():
    q = perf.PerformanceQuery(
        window=_window("performance"), categories=_list_arg("category"),
        kecamatan=request.args.get("kecamatan") or None,
        group=_choice_arg("group", "agency", perf.GROUPS), rank_by=_choice_arg("rank_by", "acknowledge", perf.RANK_BY),
        fast_closure_s=_float_arg("fast_closure_s", perf.DEFAULT_FAST_CLOSURE_S, 0, 3600),
    )
    return jsonify(perf.performance(get_session(), q))


@bp.get("/analytics/trends")
def analytics_trends():
    q = tr.TrendQuery(window=_window("trends"), categories=_list_arg("category"),
                      kecamatan=request.args.get("kecamatan") or None)
    return jsonify(tr.trends(get_session(), q))


@bp.get("/analytics/density")
def analytics_density():
    """Incident counts on a metric grid as [lat, lon, weight]: what the map's heatmap layer draws."""
    q = dens.DensityQuery(
        window=_window("density"), categories=_list_arg("category"), agency=request.args.get("agency") or None,
        kecamatan=request.args.get("kecamatan") or None, open_only=request.args.get("open") in ("1", "true"),
        cell_m=_float_arg("cell_m", 75.0, 20, 2000),
    )
    resp = jsonify(dens.density(get_session(), q, _utm_epsg()))
    resp.headers["Cache-Control"] = "no-cache"
    return resp


# The weekly report is our own HTML with a folium map that needs inline script. It is served in a
# sandbox (an opaque origin: its script cannot read the session or call the API) and may load
# nothing from anywhere, so text a caller typed can do no harm even if a template forgot to escape it.
REPORT_CSP = ("sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline'; "
              "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")


@bp.get("/analytics/weekly-report")
def analytics_weekly_report():
    """The weekly report (``peta112 report weekly``) for officials in the browser; ``download=1`` saves it."""
    raw = request.args.get("until") or ""
    try:
        until = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise InvalidInput("until must be a date (YYYY-MM-DD)", "until") from None
    lang = _choice_arg("lang", "id", reports.LANGS)
    rep = reports.weekly_report(get_session(), until, lang, _utm_epsg(), categories=_list_arg("category"))
    resp = Response(rep.html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = REPORT_CSP
    if request.args.get("download") in ("1", "true"):
        # The window ends at local midnight with the city's offset: its date needs no second zone read.
        last = datetime.fromisoformat(rep.figures["window"]["until"]) - timedelta(days=1)
        day = last.date().isoformat()
        resp.headers["Content-Disposition"] = f'attachment; filename="laporan-mingguan-112-{day}.html"'
    return resp
