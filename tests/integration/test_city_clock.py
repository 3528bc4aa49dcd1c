"""The city's clock: the time zone stored by ``city setup`` (city_profile) is the one the dashboard,
the console, the analytics and the reports count in. Balikpapan runs on WITA (UTC+8): a call at
23:30 UTC on Sunday is Monday 07:30 there, 06:30 in Jakarta."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event, text

from app.services import locale_id, reports

WITA = ZoneInfo("Asia/Makassar")
BALIKPAPAN = ("INSERT INTO city_profile (name, utm_epsg, timezone) VALUES ('Balikpapan', 32750, "
              "'Asia/Makassar')")


def test_dashboard_clock_is_the_city_time_zone(client, db_conn):
    """Before city setup the demo city's WIB; after it the city's own zone (Balikpapan: WITA)."""
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-timezone="Asia/Jakarta"' in page and 'data-zone="WIB"' in page
    db_conn.execute(text(BALIKPAPAN))
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-timezone="Asia/Makassar"' in page and 'data-zone="WITA"' in page


def test_console_clock_is_the_city_time_zone(client, db_conn):
    assert 'data-timezone="Asia/Jakarta"' in client.get("/map").get_data(as_text=True)
    db_conn.execute(text(BALIKPAPAN))
    assert 'data-timezone="Asia/Makassar"' in client.get("/map").get_data(as_text=True)


def _trends(client) -> dict:
    r = client.get("/api/v1/analytics/trends?since=2026-03-01&until=2026-03-03")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _hour_of(trends: dict) -> list[tuple[int, int]]:
    counts = trends["hour_by_weekday"]["counts"]
    return [(d, h) for d in range(7) for h in range(24) if counts[d][h]]


def test_trends_count_hours_and_days_on_the_city_clock(client, tiny_city):
    tiny_city.execute(text(
        "INSERT INTO incidents (category_code, priority, received_at, geom) VALUES "
        "('kebakaran', 1, '2026-03-01 23:30:00+00', ST_SetSRID(ST_MakePoint(110.415, -6.985), 4326))"))
    jakarta = _trends(client)
    assert jakarta["parameters"]["timezone"] == "Asia/Jakarta"
    assert jakarta["window"]["since"] == "2026-03-01T00:00:00+07:00"  # a date is the city's midnight
    assert _hour_of(jakarta) == [(0, 6)]  # Monday 06:30 WIB
    tiny_city.execute(text(BALIKPAPAN))
    balikpapan = _trends(client)
    assert balikpapan["parameters"]["timezone"] == "Asia/Makassar"
    assert balikpapan["hour_by_weekday"]["timezone"] == "Asia/Makassar"
    assert balikpapan["window"]["since"] == "2026-03-01T00:00:00+08:00"
    assert _hour_of(balikpapan) == [(0, 7)]  # Monday 07:30 WITA


def test_weekly_report_days_and_times_on_the_city_clock(session, tiny_city):
    week = reports.week_window(WITA, date(2026, 3, 8))
    assert week.since == datetime(2026, 3, 2, tzinfo=WITA) and week.until == datetime(2026, 3, 9, tzinfo=WITA)
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert locale_id.local_time(at, WITA) == "2 Mar 2026 07.30 WITA"
    assert locale_id.local_time(at, ZoneInfo("Asia/Jayapura"), "en") == "2 Mar 2026 08:30 WIT"
    session.execute(text(BALIKPAPAN))
    rep = reports.weekly_report(session, date(2026, 3, 8), now=datetime(2026, 3, 9, 1, tzinfo=UTC))
    assert rep.figures["window"]["since"] == "2026-03-02T00:00:00+08:00"
    assert "02-03-2026 00:00 WITA" in rep.html


def test_an_analytics_request_reads_the_city_clock_once(client, tiny_city):
    """The web layer reads the zone to make the window; the analytic groups on the window's zone."""
    reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if "FROM city_profile" in statement:
            reads.append(statement)

    tiny_city.execute(text(BALIKPAPAN))
    event.listen(tiny_city, "before_cursor_execute", count)
    try:
        for path in ("/api/v1/analytics/trends?since=2026-03-01&until=2026-03-03",
                     "/api/v1/analytics/agency-performance?since=2026-03-01&until=2026-03-03",
                     "/api/v1/analytics/clusters?since=2026-03-01&until=2026-03-03",
                     "/api/v1/analytics/density?since=2026-03-01&until=2026-03-03",
                     "/api/v1/analytics/weekly-report?until=2026-03-08&download=1"):
            reads.clear()
            r = client.get(path)
            assert r.status_code == 200, (path, r.get_data(as_text=True)[:300])
            assert len(reads) == 1, (path, len(reads))
        assert client.get("/api/v1/analytics/trends?since=2026-03-01&until=2026-03-03").get_json()[
            "parameters"]["timezone"] == "Asia/Makassar"
        assert 'filename="laporan-mingguan-112-2026-03-08.html"' in client.get(
            "/api/v1/analytics/weekly-report?until=2026-03-08&download=1").headers["Content-Disposition"]
    finally:
        event.remove(tiny_city, "before_cursor_execute", count)


def test_a_window_made_by_hand_reads_the_city_clock(session, tiny_city):
    """Services stay callable without the web layer: a notebook's Window has no zone and gets the stored one."""
    from app.services.analytics import trends as tr
    from app.services.analytics.common import Window

    session.execute(text(BALIKPAPAN))
    w = Window(datetime(2026, 3, 1, tzinfo=WITA), datetime(2026, 3, 3, tzinfo=WITA))
    assert w.tz is None and w.zone(session) == WITA
    assert tr.trends(session, tr.TrendQuery(window=w))["parameters"]["timezone"] == "Asia/Makassar"
