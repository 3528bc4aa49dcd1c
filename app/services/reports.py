"""Reports for officials: the weekly report and a filtered map, each one self-contained HTML file.

Why files and not the dashboard: a kepala dinas reads the weekly report on a
phone in a WhatsApp group, where no login and no server reach.  So each
report is one HTML file: a folium map (no online basemap: kelurahan
boundaries and main roads come from our own data as GeoJSON, so the map is
readable where tile servers are blocked), matplotlib charts embedded as
base64 PNG, and tables.  Every figure comes from the same analytics services
as the API and the dashboard (agency performance, clusters), so a report
never disagrees with the screen.  Folium's page links Leaflet, jQuery,
Bootstrap and icon fonts from CDNs; the maps here need only Leaflet, so the
CDN tags are replaced by our vendored Leaflet inlined (static/vendor, the same
build as the live map): the file opens with no network at all.

Bahasa Indonesia by default, English with ``lang="en"``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.city.profile import city_zone, zone_abbreviation
from app.config import PROJECT_ROOT
from app.services import locale_id
from app.services.analytics import clusters as cl
from app.services.analytics import performance as perf
from app.services.analytics.common import IN_CATEGORIES, IN_WINDOW, Window, check_categories
from app.services.errors import InvalidInput

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"  # report_weekly.html
LANGS = ("id", "en")
CLUSTER_CATEGORIES = ("banjir", "rob", "pohon_tumbang")  # as the map's BPBD cluster layer

MAX_MAP_POINTS = 20_000  # a folium file beyond this is too heavy to open on a phone
MAX_UNRESOLVED_ROWS = 200
OSM_ATTRIBUTION = ('peta112 · data jalan/batas: © <a href="https://www.openstreetmap.org/copyright">'
                   'OpenStreetMap contributors</a> (ODbL) bila diimpor dari OSM')

STRINGS: dict[str, dict[str, str]] = {
    "id": {
        "weekly_title": "Laporan Mingguan Call Center 112", "map_title": "Peta Kejadian 112",
        "period": "Periode", "generated": "Dibuat", "summary": "Ringkasan", "calls": "Panggilan",
        "pranks": "Iseng", "counted": "Kejadian", "unresolved": "Belum selesai", "overdue": "Terlambat",
        "clusters": "Klaster",
        "map": "Peta kejadian minggu ini", "by_category": "Jumlah per kategori",
        "by_kecamatan": "Jumlah per kecamatan", "performance": "Kinerja instansi (OPD) minggu ini",
        "unresolved_list": "Kejadian belum selesai / terlambat", "charts": "Grafik",
        "category": "Kategori", "kecamatan": "Kecamatan", "count": "Jumlah", "share": "Porsi",
        "agency": "Instansi", "tasks": "Tugas", "ack": "Ack median / p90", "on_scene": "Tiba median / p90",
        "resolve": "Selesai median / p90", "arrival": "Tiba sesuai target", "received": "Diterima",
        "status": "Status", "address": "Alamat", "kelurahan": "Kelurahan", "age": "Umur",
        "none": "Tidak ada.", "per_day": "Kejadian per hari menurut kategori",
        "ack_chart": "Median waktu tanggap per instansi (menit)", "day": "Tanggal",
        "minutes": "menit", "incidents": "kejadian", "legend": "Legenda", "roads": "Jalan utama",
        "boundaries": "Batas kelurahan", "cluster_label": "Klaster {n}: {count} laporan", "filter": "Filter",
        "all": "semua", "more_rows": "… dan {n} lainnya", "only_first": "Hanya {n} kejadian terbaru yang digambar.",
        "fast": "Ditutup terlalu cepat (tidak dihitung)",
    },
    "en": {
        "weekly_title": "Call Center 112 Weekly Report", "map_title": "112 Incident Map",
        "period": "Period", "generated": "Generated", "summary": "Summary", "calls": "Calls",
        "pranks": "Pranks", "counted": "Incidents", "unresolved": "Unresolved", "overdue": "Overdue",
        "clusters": "Clusters",
        "map": "This week's incidents", "by_category": "Counts by category",
        "by_kecamatan": "Counts by kecamatan", "performance": "Agency (OPD) performance this week",
        "unresolved_list": "Unresolved / overdue incidents", "charts": "Charts",
        "category": "Category", "kecamatan": "Kecamatan", "count": "Count", "share": "Share",
        "agency": "Agency", "tasks": "Tasks", "ack": "Ack median / p90", "on_scene": "On scene median / p90",
        "resolve": "Resolve median / p90", "arrival": "Arrival on target", "received": "Received",
        "status": "Status", "address": "Address", "kelurahan": "Kelurahan", "age": "Age",
        "none": "None.", "per_day": "Incidents per day by category",
        "ack_chart": "Median time to acknowledge per agency (minutes)", "day": "Date",
        "minutes": "minutes", "incidents": "incidents", "legend": "Legend", "roads": "Main roads",
        "boundaries": "Kelurahan boundaries", "cluster_label": "Cluster {n}: {count} reports", "filter": "Filter",
        "all": "all", "more_rows": "… and {n} more", "only_first": "Only the newest {n} incidents are drawn.",
        "fast": "Closed implausibly fast (left out)",
    },
}

STATUS = {
    "id": {"received": "Diterima", "verified": "Terverifikasi", "dispatched": "Diberangkatkan",
           "en_route": "Dalam perjalanan", "on_scene": "Di lokasi"},
    "en": {"received": "Received", "verified": "Verified", "dispatched": "Dispatched", "en_route": "En route",
           "on_scene": "On scene"},
}

CATEGORIES_SQL = text("SELECT code, name_id, name_en, color, priority FROM incident_categories")

# Every call in the window (the report counts calls and pranks too); figures use the counted ones.
CALLS_SQL = text(f"""
    SELECT f.id, f.category, f.status, f.received_at, f.is_counted, f.is_prank_call, f.is_open, f.is_overdue,
           ST_Y(f.geom) AS lat, ST_X(f.geom) AS lon, f.address, f.kelurahan, f.kecamatan, f.priority
    FROM incident_facts f
    WHERE {IN_WINDOW} AND {IN_CATEGORIES}
    ORDER BY f.received_at DESC, f.id DESC
""")

# Main roads only: the residential grid is noise at report scale and megabytes in the file.
ROADS_SQL = text("""
    SELECT ST_AsGeoJSON(ST_Simplify(geom, 0.00005), 5) AS g, highway, name
    FROM road_edges
    WHERE highway IN ('motorway', 'trunk', 'primary', 'secondary', 'tertiary',
                      'motorway_link', 'trunk_link', 'primary_link', 'secondary_link')
""")
KELURAHAN_SQL = text("""
    SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 5) AS g, name, code
    FROM admin_areas WHERE level = 'kelurahan'
""")
BOUNDS_SQL = text("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                  "(SELECT ST_Extent(geom)::geometry AS b FROM admin_areas) s")


@dataclass(frozen=True)
class Report:
    html: str
    figures: dict[str, Any]


def _t(lang: str) -> dict[str, str]:
    if lang not in LANGS:
        raise InvalidInput(f"lang must be one of {'|'.join(LANGS)}", "lang")
    return STRINGS[lang]


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """00:00 of a calendar day on the city's clock: how officials count days."""
    return datetime.combine(d, time(0), tzinfo=tz)


def week_window(tz: ZoneInfo, until: date | None = None, now: datetime | None = None) -> Window:
    """The seven local days ending with ``until`` (inclusive; default the city's today)."""
    last = until or (now or datetime.now(UTC)).astimezone(tz).date()
    return Window(local_midnight(last - timedelta(days=6), tz), local_midnight(last + timedelta(days=1), tz), tz)


def _categories(session: Session, lang: str) -> dict[str, dict[str, Any]]:
    return {c: {"name": nid if lang == "id" else (nen or nid), "color": col or "#777777", "priority": pr}
            for c, nid, nen, col, pr in session.execute(CATEGORIES_SQL).all()}


def _calls(session: Session, w: Window, categories: list[str] | None) -> list[dict[str, Any]]:
    """Every call in the window and categories, newest first; ``is_counted`` marks the incidents."""
    return [dict(r) for r in session.execute(CALLS_SQL, {"since": w.since, "until": w.until,
                                                         "categories": categories}).mappings()]


def _fmt_dur(seconds: float | None, lang: str) -> str:
    return locale_id.duration(seconds, lang)


def _pair(metric: dict[str, Any], lang: str) -> str:
    return f'{_fmt_dur(metric["median_s"], lang)} / {_fmt_dur(metric["p90_s"], lang)}'


def _local(dt: datetime, tz: ZoneInfo) -> str:
    return f"{dt.astimezone(tz):%d-%m-%Y %H:%M} {zone_abbreviation(tz)}"


# -- the folium map ------------------------------------------------------------------------
def base_map(session: Session, s: dict[str, str]) -> Any:
    """A folium map with no online tiles: kelurahan and main roads from our own data, fitted to the city."""
    import folium

    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    kel = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(g), "properties": {"name": n, "code": c}}
        for g, n, c in session.execute(KELURAHAN_SQL).all()]}
    folium.GeoJson(kel, name=s["boundaries"], style_function=lambda f: {
        "color": "#9d8fc4", "weight": 1, "fillColor": "#ece8f4", "fillOpacity": 0.5},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False), attr=OSM_ATTRIBUTION).add_to(m)
    roads = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(g), "properties": {"class": h, "name": n or ""}}
        for g, h, n in session.execute(ROADS_SQL).all()]}
    if roads["features"]:
        folium.GeoJson(roads, name=s["roads"], style_function=lambda f: {
            "color": "#e8a33c" if f["properties"]["class"].startswith(("motorway", "trunk", "primary")) else "#f6dc8c",
            "weight": 3 if f["properties"]["class"].startswith(("motorway", "trunk", "primary")) else 2,
            "opacity": 0.9}).add_to(m)
    b = session.execute(BOUNDS_SQL).one()
    if b[0] is not None:
        m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    # folium's attribution control only shows tile credits; the data credit goes in a fixed note.
    m.get_root().html.add_child(folium.Element(
        f'<div style="position:fixed;bottom:2px;right:6px;z-index:999;font:11px sans-serif;'
        f'background:rgba(255,255,255,.8);padding:1px 4px">{OSM_ATTRIBUTION}</div>'))
    return m


def add_incidents(m: Any, incidents: list[dict[str, Any]], cats: dict[str, dict[str, Any]],
                  s: dict[str, str], tz: ZoneInfo) -> int:
    """One GeoJSON layer per category (toggleable), circles in the live map's category colours."""
    import folium

    by_cat: dict[str, list[dict[str, Any]]] = {}
    drawn = 0
    for inc in incidents[:MAX_MAP_POINTS]:
        if inc["lat"] is None:
            continue
        by_cat.setdefault(inc["category"], []).append({
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [round(inc["lon"], 6),
                                                                             round(inc["lat"], 6)]},
            "properties": {"id": inc["id"], "cat": cats.get(inc["category"], {}).get("name", inc["category"]),
                           "status": inc["status"], "received": _local(inc["received_at"], tz),
                           "kelurahan": inc["kelurahan"] or ""}})
        drawn += 1
    order = sorted(by_cat, key=lambda c: (cats.get(c, {}).get("priority", 9), c))
    for code in order:
        color = cats.get(code, {}).get("color", "#777777")
        name = cats.get(code, {}).get("name", code)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": by_cat[code]},
            name=f'<span style="color:{color}">●</span> {name} ({len(by_cat[code])})',
            marker=folium.CircleMarker(radius=5, weight=1, color="#1f2933", fill=True, fill_opacity=0.85),
            style_function=lambda f, c=color: {"fillColor": c, "color": "#1f2933", "weight": 1},
            tooltip=folium.GeoJsonTooltip(["id", "cat", "status", "received", "kelurahan"],
                                          aliases=["#", s["category"], s["status"], s["received"],
                                                   s["kelurahan"]]),
        ).add_to(m)
    return drawn


def add_clusters(m: Any, fc: dict[str, Any], s: dict[str, str]) -> None:
    import folium

    if not fc["features"]:
        return
    for f in fc["features"]:
        p = f["properties"]
        p["label"] = s["cluster_label"].format(n=p["cluster"], count=p["count"])
        p["kel"] = ", ".join(k["name"] for k in p["kelurahan"][:6])
    folium.GeoJson(fc, name=s["clusters"], style_function=lambda f: {
        "color": "#7b3294", "weight": 2, "fillColor": "#c2a5cf", "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(["label", "kel"], labels=False)).add_to(m)


_CDN_TAG = re.compile(r'\s*<script src="https?://[^"]+"></script>|\s*<link rel="stylesheet" href="https?://[^"]+"/?>')


def offline(html: str) -> str:
    """Swap folium's CDN script and stylesheet tags for the vendored Leaflet, inlined."""
    vendor = PROJECT_ROOT / "static" / "vendor" / "leaflet"
    js = (vendor / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = (vendor / "leaflet.css").read_text(encoding="utf-8")
    html = _CDN_TAG.sub("", html)
    return html.replace("<head>", f"<head>\n<style>{css}</style>\n<script>{js}</script>", 1)


def _map_html(m: Any, collapsed: bool = False) -> str:
    import folium

    folium.LayerControl(collapsed=collapsed).add_to(m)
    return offline(m.get_root().render())


# -- matplotlib charts ------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _chart_per_day(incidents: list[dict[str, Any]], w: Window, cats: dict[str, dict[str, Any]],
                   s: dict[str, str], tz: ZoneInfo) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [(w.since + timedelta(days=k)).astimezone(tz).date() for k in range(7)]
    counts: dict[str, list[int]] = {}
    for inc in incidents:
        d = inc["received_at"].astimezone(tz).date()
        if d in days:
            counts.setdefault(inc["category"], [0] * 7)[days.index(d)] += 1
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    bottom = [0] * 7
    for code in sorted(counts, key=lambda c: -sum(counts[c])):
        ax.bar([d.strftime("%d-%m") for d in days], counts[code], bottom=bottom,
               color=cats.get(code, {}).get("color", "#777777"), label=cats.get(code, {}).get("name", code))
        bottom = [a + b for a, b in zip(bottom, counts[code], strict=True)]
    ax.set_title(s["per_day"], fontsize=10)
    ax.set_xlabel(s["day"], fontsize=9)
    ax.tick_params(labelsize=8)
    if counts:
        ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _png(fig)


def _chart_ack(groups: list[dict[str, Any]], s: dict[str, str]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [g for g in groups if g["acknowledge"]["median_s"] is not None][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * max(len(rows), 3) + 0.8))
    ax.barh([g["agency"] for g in rows], [g["acknowledge"]["p90_s"] / 60 for g in rows], color="#cbd2d9", label="p90")
    ax.barh([g["agency"] for g in rows], [g["acknowledge"]["median_s"] / 60 for g in rows], color="#b3261e",
            label="median")
    ax.set_title(s["ack_chart"], fontsize=10)
    ax.set_xlabel(s["minutes"], fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


# -- the weekly report ---------------------------------------------------------------------------
def weekly_report(session: Session, until: date | None = None, lang: str = "id", utm_epsg: int = 32749,
                  now: datetime | None = None, categories: list[str] | None = None) -> Report:
    """The week's incidents on a map with clusters, charts, counts, agency performance, unresolved list.

    Incidents are the counted calls (``incident_facts.is_counted``), as in every analytic, so the
    report's totals agree with the dashboard's for the same week; calls and pranks are shown
    beside them as the desk's load.
    """
    s = _t(lang)
    now = now or datetime.now(UTC)
    tz = city_zone(session)
    w = week_window(tz, until, now)
    chosen = check_categories(session, categories, "category")
    cats = _categories(session, lang)
    calls = _calls(session, w, chosen)
    incidents = [c for c in calls if c["is_counted"]]
    by_cat: dict[str, int] = {}
    by_kec: dict[str, int] = {}
    for i in incidents:
        by_cat[i["category"]] = by_cat.get(i["category"], 0) + 1
        by_kec[i["kecamatan"] or "—"] = by_kec.get(i["kecamatan"] or "—", 0) + 1
    total = len(incidents) or 1
    cat_rows = [{"name": cats.get(c, {}).get("name", c), "color": cats.get(c, {}).get("color", "#777"), "n": n,
                 "share": locale_id.percent(n / total, 1, lang)}
                for c, n in sorted(by_cat.items(), key=lambda kv: -kv[1])]
    kec_rows = [{"name": k, "n": n, "share": locale_id.percent(n / total, 1, lang)}
                for k, n in sorted(by_kec.items(), key=lambda kv: -kv[1])]
    performance = perf.performance(session, perf.PerformanceQuery(window=w, categories=chosen))
    perf_rows = [{"agency": g["agency"], "name": g["agency_name"] or "", "tasks": g["tasks"],
                  "ack": _pair(g["acknowledge"], lang), "on_scene": _pair(g["on_scene"], lang),
                  "resolve": _pair(g["resolve"], lang),
                  # as the dashboard's ranking writes it: "28,7% (90,0%)"
                  "arrival": (f'{locale_id.percent(g["compliance"]["arrival"]["share"], 1, lang)} '
                              f'({locale_id.percent(g["compliance"]["arrival"]["goal"], 1, lang)})'
                              if g["compliance"]["arrival"]["share"] is not None else "—"),
                  "ok": bool(g["compliance"]["arrival"]["meets_goal"])} for g in performance["groups"]]
    unresolved = []
    for i in incidents:
        if not i["is_open"]:
            continue
        age = (now - i["received_at"]).total_seconds()
        unresolved.append({**i, "overdue": i["is_overdue"], "age": _fmt_dur(age, lang),
                           "status_text": STATUS[lang].get(i["status"], i["status"]),
                           "cat": cats.get(i["category"], {}).get("name", i["category"]),
                           "color": cats.get(i["category"], {}).get("color", "#777"),
                           "received": _local(i["received_at"], tz)})
    unresolved.sort(key=lambda r: (not r["overdue"], r["priority"], r["received_at"]))
    present = [c for c in CLUSTER_CATEGORIES if c in cats and (chosen is None or c in chosen)]
    clusters = (cl.clusters(session, cl.ClusterQuery(window=w, categories=present), utm_epsg) if present
                else {"type": "FeatureCollection", "features": []})
    m = base_map(session, s)
    drawn = add_incidents(m, incidents, cats, s, tz)
    add_clusters(m, clusters, s)
    figures = {
        "window": w.to_dict(), "incidents": len(incidents), "calls": len(calls),
        "pranks": sum(c["is_prank_call"] for c in calls), "categories": chosen,
        "unresolved": len(unresolved), "overdue": sum(r["overdue"] for r in unresolved),
        "clusters": len(clusters["features"]), "agencies": len(perf_rows),
    }
    env = _env()
    env.filters["num"] = lambda v: locale_id.number(v, 0, lang)
    html = env.get_template("report_weekly.html").render(
        s=s, lang=lang, period=f"{_local(w.since, tz)} – {_local(w.until, tz)}", generated=_local(now, tz),
        figures=figures, cat_rows=cat_rows, kec_rows=kec_rows, perf_rows=perf_rows,
        fast=performance["summary"]["fast_closures"], unresolved=unresolved[:MAX_UNRESOLVED_ROWS],
        more=max(0, len(unresolved) - MAX_UNRESOLVED_ROWS),
        map_src=_map_html(m, collapsed=True), drawn=drawn, max_points=MAX_MAP_POINTS,
        chart_day=_chart_per_day(incidents, w, cats, s, tz),
        chart_ack=_chart_ack(performance["groups"], s) if performance["groups"] else None,
    )
    return Report(html=html, figures=figures)


# -- the filtered map ------------------------------------------------------------------------------
def map_report(session: Session, categories: list[str] | None, since: datetime, until: datetime | None = None,
               lang: str = "id", now: datetime | None = None) -> Report:
    """A folium map of one filtered set of incidents, in the live map's category colours."""
    s = _t(lang)
    now = now or datetime.now(UTC)
    u = until or now
    if since >= u:
        raise InvalidInput("since must be before until", "since")
    cats_checked = check_categories(session, categories, "category")
    tz = city_zone(session)
    w = Window(since, u, tz)
    cats = _categories(session, lang)
    incidents = [c for c in _calls(session, w, cats_checked) if c["is_counted"]]
    m = base_map(session, s)
    drawn = add_incidents(m, incidents, cats, s, tz)
    label = ", ".join(cats[c]["name"] for c in cats_checked) if cats_checked else s["all"]
    period = f"{_local(w.since, tz)} – {_local(w.until, tz)}"
    title = f'{s["map_title"]}: {label}, {period} ({len(incidents)} {s["incidents"]})'
    note = f' {s["only_first"].format(n=MAX_MAP_POINTS)}' if len(incidents) > MAX_MAP_POINTS else ""
    m.get_root().html.add_child(_title_box(title + note))
    m.get_root().header.add_child(_meta_title(title))
    return Report(html=_map_html(m), figures={"window": w.to_dict(), "incidents": len(incidents), "drawn": drawn,
                                              "categories": cats_checked})


def _title_box(title: str) -> Any:
    import folium
    from markupsafe import escape

    return folium.Element(f'<div id="report-title" style="position:fixed;top:8px;left:50px;z-index:999;'
                          f'font:600 14px sans-serif;background:rgba(255,255,255,.92);padding:4px 8px;'
                          f'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3)">{escape(title)}</div>')


def _meta_title(title: str) -> Any:
    import folium
    from markupsafe import escape

    return folium.Element(f"<title>{escape(title)}</title>")


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
