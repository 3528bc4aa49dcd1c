def test_categories_carry_routing_rules(client):
    res = client.get("/api/v1/categories")
    assert res.status_code == 200
    cats = {c["code"]: c for c in res.get_json()["categories"]}
    assert {a["agency"] for a in cats["kecelakaan"]["agencies"]} >= {"POLRI", "DINKES"}
    assert cats["kebakaran"]["priority"] == 1
    assert cats["prank"]["agencies"] == []
    assert cats["kebakaran"]["response_plan"][0]["unit_type"] == "fire_engine"


def test_agencies_listed(client):
    codes = [a["code"] for a in client.get("/api/v1/agencies").get_json()["agencies"]]
    assert {"DAMKAR", "DINKES", "POLRI", "BPBD", "PU", "SATPOLPP", "DINSOS", "PMI"} <= set(codes)
