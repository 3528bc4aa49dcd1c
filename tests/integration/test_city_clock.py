"""The city's clock: the time zone stored by ``city setup`` (city_profile) reaches the dashboard."""

from sqlalchemy import text


def test_dashboard_clock_is_the_city_time_zone(client, db_conn):
    """Before city setup the demo city's WIB; after it the city's own zone (Balikpapan: WITA)."""
    assert 'data-timezone="Asia/Jakarta"' in client.get("/dashboard").get_data(as_text=True)
    db_conn.execute(text("INSERT INTO city_profile (name, utm_epsg, timezone) VALUES ('Balikpapan', 32750, "
                         "'Asia/Makassar')"))
    assert 'data-timezone="Asia/Makassar"' in client.get("/dashboard").get_data(as_text=True)
