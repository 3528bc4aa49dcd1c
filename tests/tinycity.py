"""A hand-made, tiny city for dispatch tests: two kelurahan, four streets, two stations."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Kecamatan "Tengah" split into kelurahan "Sukamaju" (west) and "Tanjung Mas" (east).
WEST = "POLYGON((110.40 -7.00, 110.42 -7.00, 110.42 -6.96, 110.40 -6.96, 110.40 -7.00))"
EAST = "POLYGON((110.42 -7.00, 110.44 -7.00, 110.44 -6.96, 110.42 -6.96, 110.42 -7.00))"
ALL = "POLYGON((110.40 -7.00, 110.44 -7.00, 110.44 -6.96, 110.40 -6.96, 110.40 -7.00))"

SQL = f"""
INSERT INTO admin_areas (id, level, code, name, population, geom) VALUES
  (9001, 'kecamatan', 'KC-T', 'Tengah', 20000, ST_Multi(ST_GeomFromText('{ALL}', 4326)));
INSERT INTO admin_areas (id, level, code, name, parent_id, population, geom) VALUES
  (9002, 'kelurahan', 'KL-S', 'Sukamaju', 9001, 9000, ST_Multi(ST_GeomFromText('{WEST}', 4326))),
  (9003, 'kelurahan', 'KL-T', 'Tanjung Mas', 9001, 11000, ST_Multi(ST_GeomFromText('{EAST}', 4326)));
INSERT INTO road_nodes (id, geom) VALUES
  (1, ST_SetSRID(ST_MakePoint(110.405, -6.98), 4326)),
  (2, ST_SetSRID(ST_MakePoint(110.420, -6.98), 4326)),
  (3, ST_SetSRID(ST_MakePoint(110.435, -6.98), 4326)),
  (4, ST_SetSRID(ST_MakePoint(110.420, -6.965), 4326));
INSERT INTO road_edges (id, source, target, name, highway, oneway, length_m, speed_kmh, cost, reverse_cost, geom)
SELECT e.id, e.s, e.t, e.name, 'secondary', false, ST_Length(g::geography), 36,
       ST_Length(g::geography) / 10, ST_Length(g::geography) / 10, g
FROM (VALUES (1, 1, 2, 'Jl. Merdeka'), (2, 2, 3, 'Jl. Merdeka'), (3, 2, 4, 'Jl. Pemuda'))
     AS e(id, s, t, name)
CROSS JOIN LATERAL (SELECT ST_MakeLine(a.geom, b.geom) AS g FROM road_nodes a, road_nodes b
                    WHERE a.id = e.s AND b.id = e.t) l;
INSERT INTO places (kind, name, area_id, geom)
SELECT 'street', name, NULL, ST_LineMerge(ST_Collect(geom)) FROM road_edges GROUP BY name;
INSERT INTO places (kind, name, area_id, geom) VALUES
  ('landmark', 'Pasar Johar', 9003, ST_SetSRID(ST_MakePoint(110.430, -6.975), 4326)),
  ('landmark', 'Masjid Agung Sukamaju', 9002, ST_SetSRID(ST_MakePoint(110.410, -6.985), 4326)),
  ('kelurahan', 'Tanjung Mas', 9003, ST_SetSRID(ST_MakePoint(110.43, -6.98), 4326));
INSERT INTO stations (id, agency_code, kind, name, geom) VALUES
  (901, 'DAMKAR', 'fire_station', 'Pos Damkar Tengah', ST_SetSRID(ST_MakePoint(110.406, -6.981), 4326)),
  (902, 'DINKES', 'ambulance_post', 'PSC 119 Tengah', ST_SetSRID(ST_MakePoint(110.434, -6.979), 4326)),
  (903, 'POLRI', 'police_post', 'Polsek Tengah', ST_SetSRID(ST_MakePoint(110.421, -6.966), 4326));
INSERT INTO units (id, station_id, agency_code, callsign, unit_type, status, geom) VALUES
  (801, 901, 'DAMKAR', 'T-DAMKAR-1', 'fire_engine', 'available', ST_SetSRID(ST_MakePoint(110.406, -6.981), 4326)),
  (802, 901, 'DAMKAR', 'T-DAMKAR-2', 'fire_engine', 'available', ST_SetSRID(ST_MakePoint(110.406, -6.981), 4326)),
  (803, 902, 'DINKES', 'T-AMB-1', 'ambulance', 'available', ST_SetSRID(ST_MakePoint(110.434, -6.979), 4326)),
  (804, 903, 'POLRI', 'T-POL-1', 'patrol_car', 'out_of_service', ST_SetSRID(ST_MakePoint(110.421, -6.966), 4326));
"""


def seed(conn: Connection) -> None:
    """The tiny city and one test user per role (tests/users.py), so any server on it can be signed into."""
    from tests import users

    conn.execute(text(SQL))
    users.seed(conn)
