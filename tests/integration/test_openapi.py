"""/openapi.json is generated from the URL map: every route is in it, errors are problem details, /docs renders."""

from __future__ import annotations

from app.web.openapi import HIDDEN_ENDPOINTS, REGISTRY, openapi_path

CORE = ("api.create_incident", "api.list_incidents", "api.get_incident", "api.get_nearest", "health.healthz",
        "open311.create_request", "open311.list_requests", "features.get_items", "features.list_collections")


def test_every_route_is_in_the_document(app, client):
    res = client.get("/openapi.json")
    assert res.status_code == 200 and res.mimetype == "application/json"
    spec = res.get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    routed = {(openapi_path(r), m.lower()) for r in app.url_map.iter_rules() if r.endpoint not in HIDDEN_ENDPOINTS
              for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert all(e in REGISTRY for e in CORE)
    assert all(e in app.view_functions for e in REGISTRY), "registry names an endpoint that no longer exists"


def test_schemas_and_error_shapes(client):
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    post = spec["paths"]["/api/v1/incidents"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/IncidentIn"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Incident")
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}
    assert schemas["Problem"]["required"] == ["type", "title", "status"]
    caller_free = schemas["Open311Request"]["properties"]
    assert not {"caller", "phone", "first_name", "caller_phone"} & set(caller_free)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            errors = op["responses"]["4XX"]["content"]
            if path.startswith("/open311/"):
                assert errors["application/json"]["schema"]["items"]["$ref"].endswith("/Open311Error"), path
            else:
                assert "application/problem+json" in errors, (method, path)
    items = spec["paths"]["/api/v1/collections/{collection_id}/items"]["get"]
    assert {p["name"] for p in items["parameters"]} >= {"collection_id", "bbox", "datetime", "limit", "offset"}
    assert "application/geo+json" in items["responses"]["200"]["content"]


def test_docs_page_is_server_rendered_without_a_cdn(client):
    res = client.get("/docs")
    assert res.status_code == 200 and res.mimetype == "text/html"
    html = res.get_data(as_text=True)
    assert "/api/v1/incidents" in html and "Log a 112 call" in html and "/openapi.json" in html
    assert "<script" not in html and "https://cdn" not in html
