import pytest
from sqlalchemy import text

from app.services import geocode
from app.services.geocode import normalize
from tests import tinycity

SAMPLES = ["Jl. Pemuda", "JLN. Merdeka no. 5", "jalan gajah mada", "Gg. Melati 3", "gang kenanga",
           "Kel. Tanjung Mas", "kec. semarang utara", "RSUD Kota", "rumah sakit umum", "dkt pasar johar",
           "depan Masjid Agung", "jlx street", "Jl.Pandanaran"]


@pytest.mark.parametrize("s", SAMPLES)
def test_sql_and_python_normalisation_agree(db_conn, s):
    assert db_conn.execute(text("SELECT peta112_norm_place(:s)"), {"s": s}).scalar_one() == normalize(s)


def test_geocode_and_reverse(client, db_conn):
    tinycity.seed(db_conn)
    res = client.get("/api/v1/geocode?q=Jln%20Pemuda").get_json()
    assert res["results"][0]["name"] == "Jl. Pemuda"
    kel = client.get("/api/v1/geocode?q=kel.%20tanjung%20mas").get_json()["results"][0]
    assert kel["name"] == "Tanjung Mas" and kel["kind"] == "kelurahan"
    assert client.get("/api/v1/geocode?q=").get_json()["field"] == "q"
    rev = client.get("/api/v1/reverse?lat=-6.9805&lon=110.43").get_json()
    assert rev["street"]["name"] == "Jl. Merdeka"
    assert rev["kelurahan"]["name"] == "Tanjung Mas" and rev["kecamatan"]["name"] == "Tengah"
    assert client.get("/api/v1/reverse?lat=abc&lon=1").status_code == 422


# Two markets of one name: the caller's street says which one.  Jl. Usaha I runs east-west at
# -6.990 from 110.400 to 110.410; the Pasar Pleburan beside it is 40 m north of the street,
# the other one 3 km east.  Addresses come from OSM addr:* (kind 'address').
EXTRA = """
INSERT INTO places (kind, name, area_id, props, geom) VALUES
  ('street', 'Jl. Usaha I', 9002, '{}',
   ST_GeomFromText('MULTILINESTRING((110.400 -6.990, 110.405 -6.990), (110.405 -6.990, 110.410 -6.990))', 4326)),
  ('landmark', 'Pasar Pleburan', 9002, '{"type": "pasar"}', ST_SetSRID(ST_MakePoint(110.4085, -6.98964), 4326)),
  ('landmark', 'Pasar Pleburan', 9003, '{"type": "pasar"}', ST_SetSRID(ST_MakePoint(110.4360, -6.9700), 4326)),
  ('address', 'Jl. Usaha I 12', 9002, '{"street": "Jl. Usaha I", "housenumber": "12"}',
   ST_SetSRID(ST_MakePoint(110.4021, -6.98985), 4326));
"""


def _seed(conn):
    tinycity.seed(conn)
    conn.execute(text(EXTRA))


def test_every_result_says_its_precision(client, db_conn):
    _seed(db_conn)
    seen = {}
    for q in ("jl pemuda", "pasar johar", "kel tanjung mas", "jl usaha i no 12"):
        res = client.get("/api/v1/geocode", query_string={"q": q}).get_json()["results"]
        assert res, q
        for r in res:
            assert r["precision"] in ("address", "street", "landmark", "kelurahan", "kecamatan")
        seen[q] = res[0]["precision"]
    assert seen == {"jl pemuda": "street", "pasar johar": "landmark", "kel tanjung mas": "kelurahan",
                    "jl usaha i no 12": "address"}


def test_street_near_landmark_is_at_the_landmark_by_that_street(client, db_conn):
    _seed(db_conn)
    for q in ("jl usaha i dkt pasar pleburan", "Jln. Usaha I dekat Pasar Pleburan", "jl usaha 1 depan psr pleburan",
              "JL. USAHA I RT 03/RW 05 belakang pasar pleburan"):
        top = client.get("/api/v1/geocode", query_string={"q": q}).get_json()["results"][0]
        assert (top["name"], top["precision"]) == ("Pasar Pleburan", "landmark"), q
        assert (round(top["lat"], 5), round(top["lon"], 5)) == (-6.98964, 110.4085), q
        assert top["near"]["street_distance_m"] < 50
    # The street alone is the street, on the street (not the midpoint of its bounding box).
    street = client.get("/api/v1/geocode", query_string={"q": "jl usaha i"}).get_json()["results"][0]
    assert (street["name"], street["precision"], round(street["lat"], 6)) == ("Jl. Usaha I", "street", -6.99)
    # A house number that is not mapped falls back to the street.
    hit = client.get("/api/v1/geocode", query_string={"q": "jl usaha i no 99"}).get_json()["results"][0]
    assert (hit["name"], hit["precision"]) == ("Jl. Usaha I", "street")


def test_query_parsing():
    q = geocode.parse("Jl. Usaha I No. 12B RT.003/RW.005 dkt Pasar Pleburan")
    assert (q.text, q.landmark, q.relation, q.house_number) == ("jl usaha i", "pasar pleburan", "dkt", "12B")
    assert q.rt_rw and q.rt_rw.lower().startswith("rt")
    assert geocode.parse("gg. melati rt 2 rw 4").text == "gg melati"
    assert geocode.parse("samping masjid agung").text == "" and geocode.parse("samping masjid agung").landmark


def test_reverse_caps_the_distance(client, db_conn):
    _seed(db_conn)
    near = client.get("/api/v1/reverse?lat=-6.9805&lon=110.43").get_json()
    assert near["near"] and near["street"]["distance_m"] <= geocode.REVERSE_MAX_M
    # 2 km south of every street: nothing is named, and the answer says so.
    far = client.get("/api/v1/reverse?lat=-7.0&lon=110.43").get_json()
    assert far["street"] is None and far["near"] is False and far["max_distance_m"] == geocode.REVERSE_MAX_M

