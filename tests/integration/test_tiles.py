"""Vector tiles from PostGIS and the layer registry they are declared in."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from app.layers import LAYERS_DIR, REQUIRED, LayerError, load_layer, load_registry, registry
from tests import tinycity
from tests.mvt import decode

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ (Web Mercator) tile containing a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


Z = 14
X, Y = tile_of(110.42, -6.98, Z)


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)


def get_tile(client, layer: str, z: int = Z, x: int = X, y: int = Y):
    resp = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == MVT
    return resp


def test_registry_loads_every_layer_file_with_required_keys():
    files = sorted(p.stem for p in LAYERS_DIR.glob("*.toml"))
    reg = load_registry()
    assert sorted(reg) == files
    assert {"roads", "kelurahan", "kecamatan", "landmarks", "incidents", "stations", "units"} <= set(reg)
    assert {"heatmap", "hotspots", "clusters"} <= set(reg)
    for layer in reg.values():
        assert layer.title["id"] and layer.title["en"]
        assert layer.geometry in ("point", "line", "polygon")
        public = layer.public()
        assert "sql" not in public
        if layer.render in ("geojson", "heatmap"):  # analytic overlays: drawn from an endpoint, not tiles
            assert not layer.tiled and public["tiles"] is None and public["url"].startswith("/api/v1/analytics/")
        else:
            assert layer.style and layer.sql.upper().startswith("SELECT")
            assert public["tiles"] == f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.pbf" and public["url"] is None
    # Basemap layers come first so they draw underneath.
    groups = [layer.group for layer in reg.values()]
    assert groups == sorted(groups, key=("basemap", "operational").index)


@pytest.mark.parametrize("missing", REQUIRED)
def test_layer_file_missing_a_required_key_is_refused(tmp_path: Path, missing: str):
    text = (LAYERS_DIR / "landmarks.toml").read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{missing} =") and ln != f"[{missing}]"]
    if missing in ("source", "style"):  # drop the whole table
        out, skip = [], False
        for ln in text.splitlines():
            if ln.startswith("["):
                skip = ln.strip("[]").split(".")[0] == missing
            if not skip:
                out.append(ln)
        lines = out
    path = tmp_path / "landmarks.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(LayerError, match=missing):
        load_layer(path)


def test_layer_file_validation(tmp_path: Path):
    good = (LAYERS_DIR / "landmarks.toml").read_text()
    cases = {
        "id must": good.replace('id = "landmarks"', 'id = "Bad Id"'),
        "geometry must": good.replace('geometry = "point"', 'geometry = "blob"'),
        "minzoom": good.replace("minzoom = 13", "minzoom = 30"),
        "one statement": good.replace("p.geom && b.box", "p.geom && b.box; DROP TABLE places"),
        "title needs": good.replace('title = { id = "Tempat penting", en = "Landmarks" }', 'title = "x"'),
    }
    for message, text in cases.items():
        path = tmp_path / "landmarks.toml"
        path.write_text(text)
        with pytest.raises(LayerError, match=message):
            load_layer(path)
    table = tmp_path / "t.toml"
    table.write_text('id = "t"\ntitle = { id = "T", en = "T" }\ngeometry = "point"\nminzoom = 0\nmaxzoom = 22\n'
                     '[source]\ntable = "stations"\ncolumns = ["name", "agency_code AS agency"]\n[style]\n')
    assert load_layer(table).sql == ("SELECT t.geom, t.name, t.agency_code AS agency FROM stations t, bounds b "
                                     "WHERE t.geom && b.box")
    with pytest.raises(LayerError, match="no layer files"):
        load_registry(tmp_path / "empty")


GEOJSON_LAYER = ('id = "g"\ntitle = {{ id = "G", en = "G" }}\ngeometry = "polygon"\nrender = "geojson"\n'
                 'minzoom = 8\nmaxzoom = 22\n{url}\n[style]\nbase = {{ color = "#000000" }}\n')


def test_geojson_layers_name_an_endpoint_instead_of_sql(tmp_path: Path):
    path = tmp_path / "g.toml"
    path.write_text(GEOJSON_LAYER.format(url='url = "/api/v1/analytics/hotspots?unit=hex"\nwindow_days = 90'))
    layer = load_layer(path)
    assert layer.url == "/api/v1/analytics/hotspots?unit=hex" and layer.sql == "" and not layer.tiled
    assert layer.public()["window_days"] == 90  # extra keys reach the page
    for bad, message in [("", "needs url"), ('url = "https://elsewhere.example/x"', "needs url"),
                         ('url = "//elsewhere.example/x"', "needs url")]:
        path.write_text(GEOJSON_LAYER.format(url=bad))
        with pytest.raises(LayerError, match=message):
            load_layer(path)
    tiles_with_url = (LAYERS_DIR / "landmarks.toml").read_text().replace('minzoom = 13', 'minzoom = 13\nurl = "/x"')
    (tmp_path / "landmarks.toml").write_text(tiles_with_url)
    with pytest.raises(LayerError, match="url is only for"):
        load_layer(tmp_path / "landmarks.toml")


def test_analytic_overlays_are_not_served_as_tiles(client):
    resp = client.get(f"/tiles/hotspots/{Z}/{X}/{Y}.pbf")
    assert resp.status_code == 404
    assert "not served as tiles" in resp.get_json()["detail"]


def test_roads_tile_is_valid_mvt_with_road_classes(client, city):
    resp = get_tile(client, "roads")
    layers = decode(resp.data)
    assert list(layers) == ["roads"]
    feats = layers["roads"]["features"]
    assert layers["roads"]["extent"] == 4096
    assert {f["properties"]["name"] for f in feats} >= {"Jl. Merdeka", "Jl. Pemuda"}
    assert all(f["type"] == "line" and f["properties"]["class"] == "secondary" for f in feats)
    assert all(f["geometry_len"] > 0 for f in feats)
    assert resp.headers["Cache-Control"] == "public, max-age=3600"
    assert resp.headers["ETag"]
    # A revalidation with the ETag costs no body.
    again = client.get(f"/tiles/roads/{Z}/{X}/{Y}.pbf", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_street_names_tile_has_one_merged_line_per_street(client, city):
    """The label layer's streets: the edges of a street merged, so its name has room along it."""
    roads = decode(get_tile(client, "roads").data)["roads"]["features"]
    labels = decode(get_tile(client, "road_labels").data)["road_labels"]["features"]
    names = [f["properties"]["name"] for f in labels]
    assert sorted(names) == sorted({f["properties"]["name"] for f in roads}) and len(names) == len(set(names))
    assert len(labels) < len(roads)  # several edges per street, one label line
    assert all(f["type"] == "line" and f["properties"]["class"] == "secondary" for f in labels)
    resp = get_tile(client, "road_labels")
    assert resp.headers["Cache-Control"] == "public, max-age=3600"  # a basemap: the same for every reader


def test_area_names_tile_has_points_per_zoom(client, city):
    """Kecamatan names at city zooms, kelurahan names from z14 (both at z14, where they hand over)."""
    x12, y12 = tile_of(110.42, -6.98, 12)
    kec = decode(get_tile(client, "area_labels", z=12, x=x12, y=y12).data)["area_labels"]["features"]
    assert [(f["properties"]["name"], f["properties"]["class"]) for f in kec] == [("Tengah", "kecamatan")]
    both = decode(get_tile(client, "area_labels").data)["area_labels"]["features"]
    names = {(f["properties"]["name"], f["properties"]["class"]) for f in both}
    assert ("Tengah", "kecamatan") in names and ("Tanjung Mas", "kelurahan") in names
    assert all(f["type"] == "point" for f in both)


def test_kelurahan_and_kecamatan_tiles_carry_names(client, city):
    kel = decode(get_tile(client, "kelurahan").data)["kelurahan"]["features"]
    assert {f["properties"]["name"] for f in kel} == {"Sukamaju", "Tanjung Mas"}
    assert all(f["type"] == "polygon" and f["properties"]["kecamatan"] == "Tengah" for f in kel)
    kec = decode(get_tile(client, "kecamatan").data)["kecamatan"]["features"]
    assert [f["properties"]["name"] for f in kec] == ["Tengah"]


def test_incidents_tile_has_category_colour_and_open_state(client, city):
    made = client.post("/api/v1/incidents", json={"category": "kebakaran", "lat": -6.981, "lon": 110.419})
    assert made.status_code == 201
    iid = made.get_json()["id"]
    feats = decode(get_tile(client, "incidents").data)["incidents"]["features"]
    mine = next(f for f in feats if f["properties"]["id"] == iid)
    assert mine["type"] == "point"
    p = mine["properties"]
    assert p["category"] == "kebakaran" and p["status"] == "received" and p["open"] is True
    assert p["overdue"] is False and p["color"].startswith("#")
    client.patch(f"/api/v1/incidents/{iid}", json={"status": "resolved"})
    feats = decode(get_tile(client, "incidents").data)["incidents"]["features"]
    assert next(f for f in feats if f["properties"]["id"] == iid)["properties"]["open"] is False


def test_stations_and_units_tiles(client, city):
    stations = decode(get_tile(client, "stations").data)["stations"]["features"]
    assert stations and all(f["properties"]["color"].startswith("#") for f in stations)
    units = decode(get_tile(client, "units").data)["units"]["features"]
    assert units and {"callsign", "status", "agency"} <= set(units[0]["properties"])
    resp = get_tile(client, "units")
    assert {d.strip() for d in resp.headers["Cache-Control"].split(",")} == {"private", "no-cache"}
    assert {"Authorization", "Cookie"} <= {v.strip() for v in resp.headers["Vary"].split(",")}


def test_tile_elsewhere_or_outside_zoom_range_is_empty(client, city):
    x, y = tile_of(106.8, -6.2, Z)  # Jakarta: no tinycity data there
    for layer in (lid for lid, layer in registry().items() if layer.tiled):
        assert get_tile(client, layer, Z, x, y).data == b""
    assert get_tile(client, "landmarks", 5, *tile_of(110.42, -6.98, 5)).data == b""  # below minzoom 13


def test_unknown_layer_is_a_404_problem(client):
    resp = client.get("/tiles/nope/14/1/1.pbf")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["field"] == "layer"


@pytest.mark.parametrize(("path", "field"), [
    ("25/0/0", "z"), ("3/8/0", "x"), ("3/0/8", "y"), ("a/0/0", "z"), ("3/-1/0", "x"), ("3/0/1e3", "y"),
])
def test_bad_tile_coordinates_are_422_problems(client, path, field):
    resp = client.get(f"/tiles/roads/{path}.pbf")
    assert resp.status_code == 422
    body = resp.get_json()
    assert resp.mimetype == "application/problem+json" and body["field"] == field


def test_map_page_layers_json_and_root_redirect(client, city):
    assert client.get("/").headers["Location"].endswith("/map")
    page = client.get("/map")
    assert page.status_code == 200 and b'<html lang="id">' in page.data
    assert b"<script>" not in page.data  # no inline scripts: a CSP can forbid them
    meta = client.get("/map/layers.json").get_json()
    assert [layer["id"] for layer in meta["layers"]] == list(registry())
    assert meta["bounds"] == pytest.approx([110.40, -7.00, 110.44, -6.96])
    assert "OpenStreetMap contributors" in meta["attribution"]["osm"]
    with client.get("/static/vendor/leaflet/leaflet.js") as js:
        assert js.status_code == 200 and b"Leaflet" in js.data[:200]
