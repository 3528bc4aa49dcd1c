"""AVL positions: within the city plus 10 km, each accepted one audited (who, when, where).

Issue 14: positions were accepted anywhere (lat -89.9) and left no trace.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests import tinycity, users

# The tiny city spans lon 110.40..110.44, lat -7.00..-6.96.


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    return db_conn


def _move(client, unit: int, lat: float, lon: float, role: str = "admin"):
    return client.post(f"/api/v1/units/{unit}/position", json={"lat": lat, "lon": lon}, headers=users.auth(role))


def _audit(conn, unit: int) -> list:
    return conn.execute(text("SELECT actor, at, ST_Y(geom) AS lat, ST_X(geom) AS lon FROM unit_positions "
                             "WHERE unit_id = :u ORDER BY id"), {"u": unit}).all()


def test_accepted_positions_are_audited(client, city):
    assert _move(client, 801, -6.97, 110.43, role="agency").status_code == 200  # t_damkar moves its own unit
    assert _move(client, 801, -6.975, 110.435, role="dispatcher").status_code == 200
    rows = _audit(city, 801)
    assert [r.actor for r in rows] == ["t_damkar", "t_dispatcher"]
    assert (rows[1].lat, rows[1].lon) == pytest.approx((-6.975, 110.435))
    assert rows[0].at is not None


@pytest.mark.parametrize("lat, lon, field", [(-89.9, 110.42, "lat"), (-6.98, 0.0, "lon"), (-6.98, 110.60, "lon"),
                                             (-7.12, 110.42, "lat")])
def test_positions_far_outside_the_city_are_refused(client, city, lat, lon, field):
    res = _move(client, 803, lat, lon)
    assert res.status_code == 422 and res.get_json()["field"] == field
    assert _audit(city, 803) == []
    unit = city.execute(text("SELECT ST_Y(geom) FROM units WHERE id = 803")).scalar_one()
    assert unit == pytest.approx(-6.979)


def test_a_few_kilometres_outside_is_fine(client, city):
    assert _move(client, 803, -7.05, 110.42).status_code == 200  # about 5.5 km south of the city
    assert _move(client, 803, -6.98, 110.52).status_code == 200  # about 8.8 km east


def test_without_city_data_any_valid_position_is_accepted(client, db_conn):
    db_conn.execute(text("INSERT INTO units (id, agency_code, callsign, unit_type, status) "
                         "VALUES (7001, 'DAMKAR', 'X-1', 'fire_engine', 'available')"))
    assert _move(client, 7001, -89.9, 0.0).status_code == 200
    assert _move(client, 7001, 91, 0.0).get_json()["field"] == "lat"
    assert len(_audit(db_conn, 7001)) == 1


def test_the_audit_is_append_only(client, city):
    assert _move(client, 802, -6.97, 110.43).status_code == 200
    nested = city.begin_nested()
    with pytest.raises(Exception, match="unit_positions is append-only"):
        city.execute(text("UPDATE unit_positions SET actor = 'mallory'"))
    nested.rollback()
