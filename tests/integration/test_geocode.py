import pytest
from sqlalchemy import text

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
