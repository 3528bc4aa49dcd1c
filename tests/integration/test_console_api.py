"""The dispatcher console's API: the whole queue, response plans, assigning a plan at once,
notes, and what each role may do (GET /api/v1/me), on real PostGIS under row-level security."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.web.policy import POLICY
from tests import tinycity, users

IN_EAST = {"lat": -6.978, "lon": 110.431}


@pytest.fixture()
def city(db_conn):
    tinycity.seed(db_conn)
    return db_conn


def call(client, category: str, **where) -> dict:
    res = client.post("/api/v1/incidents", json={"category": category, **(where or IN_EAST)})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def age(conn, incident_id: int, minutes: int) -> None:
    conn.execute(text("UPDATE incidents SET received_at = now() - make_interval(mins => :m) WHERE id = :i"),
                 {"m": minutes, "i": incident_id})


def test_queue_orders_priority_then_overdue_then_waiting_and_counts_states(client, city):
    light = call(client, "pju_mati")                     # P5
    fresh_fire = call(client, "kebakaran")               # P1, waiting 2 min
    late_fire = call(client, "kebakaran", lat=-6.99, lon=110.405)  # P1, 30 min: overdue (target 8)
    older_fresh = call(client, "kecelakaan", lat=-6.97, lon=110.41)  # P1, 5 min, not overdue (target 10)
    flood = call(client, "banjir", lat=-6.965, lon=110.435)  # P2, 60 min: overdue (target 30)
    age(city, fresh_fire["id"], 2)
    age(city, late_fire["id"], 30)
    age(city, older_fresh["id"], 5)
    age(city, flood["id"], 60)
    client.patch(f"/api/v1/incidents/{light['id']}", json={"status": "verified"})
    page = client.get("/api/v1/queue?limit=100000").get_json()
    ids = [i["id"] for i in page["items"]]
    assert ids == [late_fire["id"], older_fresh["id"], fresh_fire["id"], flood["id"], light["id"]]
    assert page["total"] == 5
    counts = page["counts"]
    assert counts["open"] == 5 and counts["overdue"] == 2
    assert counts["by_priority"]["1"] == {"open": 3, "overdue": 1}
    assert counts["by_priority"]["2"] == {"open": 1, "overdue": 1}
    assert counts["by_status"]["received"]["open"] == 4 and counts["by_status"]["verified"]["open"] == 1
    assert page["items"][0]["category_name_en"] == "Fire"
    # A page shorter than the queue still counts the whole queue.
    short = client.get("/api/v1/queue?limit=1").get_json()
    assert [i["id"] for i in short["items"]] == [late_fire["id"]] and short["total"] == 5


def test_queue_limit_is_checked(client, city):
    res = client.get("/api/v1/queue?limit=0")
    assert res.status_code == 422 and res.get_json()["field"] == "limit"


def test_agency_queue_and_counts_hold_only_its_own_tasks(client, city):
    fire = call(client, "kebakaran")   # DAMKAR, POLRI, PLN
    crime = call(client, "kriminal")   # POLRI only
    damkar = client.get("/api/v1/queue", headers=users.auth("t_damkar")).get_json()
    assert [i["id"] for i in damkar["items"]] == [fire["id"]] and damkar["counts"]["open"] == 1
    polri = client.get("/api/v1/queue", headers=users.auth("t_polri")).get_json()
    assert {i["id"] for i in polri["items"]} == {fire["id"], crime["id"]}


def test_plan_fills_each_slot_with_the_right_kind_of_unit(client, city):
    fire = call(client, "kebakaran")
    plan = client.get(f"/api/v1/incidents/{fire['id']}/plan").get_json()
    lines = {(x["agency"], x["unit_type"]): x for x in plan["plan"]}
    engines = lines[("DAMKAR", "fire_engine")]
    assert engines["count"] == 2 and engines["filled"] == 2
    assert {c["unit_id"] for c in engines["candidates"]} == {801, 802}
    assert [c["unit_id"] for c in lines[("DINKES", "ambulance")]["candidates"]] == [803]
    # Agencies with a task but no line in the plan get a slot each (POLRI's only car is out of service).
    assert ("POLRI", None) in lines and ("PLN", None) in lines
    assert all(c["unit_id"] != 804 for x in plan["plan"] for c in x["candidates"])
    # The first slot is a fire engine: no ambulance or police car is proposed first for a fire.
    assert plan["plan"][0]["agency"] == "DAMKAR" and plan["plan"][0]["candidates"][0]["unit_type"] == "fire_engine"
    picked = {c["unit_id"] for x in plan["plan"] for c in x["candidates"]}
    assert not picked & {c["unit_id"] for c in plan["others"]}


def test_assigning_the_whole_plan_is_one_transaction(client, city):
    fire = call(client, "kebakaran")
    res = client.post(f"/api/v1/incidents/{fire['id']}/assignments", json={"unit_ids": [801, 802, 803]},
                      headers=users.auth("dispatcher"))
    assert res.status_code == 201, res.get_json()
    inc = res.get_json()
    assert inc["status"] == "dispatched"
    assert sorted(a["unit_id"] for a in inc["assignments"]) == [801, 802, 803]
    assert {t["agency"] for t in inc["tasks"]} >= {"DAMKAR", "DINKES"}
    assert sum(1 for e in inc["events"] if e["kind"] == "assigned") == 3
    # Assigned units fill their slots: the plan has nothing left to send for them.
    plan = client.get(f"/api/v1/incidents/{fire['id']}/plan").get_json()
    engines = next(x for x in plan["plan"] if x["unit_type"] == "fire_engine")
    assert [a["unit_id"] for a in engines["assigned"]] == [801, 802] and engines["candidates"] == []


def test_a_plan_with_one_busy_unit_assigns_none(client, city):
    first = call(client, "ambulans")
    second = call(client, "kebakaran", lat=-6.99, lon=110.405)
    assert client.post(f"/api/v1/incidents/{first['id']}/assignments", json={"unit_id": 803}).status_code == 201
    res = client.post(f"/api/v1/incidents/{second['id']}/assignments", json={"unit_ids": [801, 802, 803]})
    assert res.status_code == 409 and res.get_json()["field"] == "unit_ids"
    board = {u["id"]: u["status"] for u in client.get("/api/v1/units").get_json()["units"]}
    assert board[801] == board[802] == "available"
    assert client.get(f"/api/v1/incidents/{second['id']}").get_json()["assignments"] == []


@pytest.mark.parametrize("body", [{"unit_ids": []}, {"unit_ids": [801, 801]}, {"unit_ids": ["801"]},
                                  {"unit_ids": 801}, {"unit_ids": [999999]}, {}])
def test_bad_plan_assignment_is_422_naming_the_field(client, city, body):
    fire = call(client, "kebakaran")
    res = client.post(f"/api/v1/incidents/{fire['id']}/assignments", json=body)
    assert res.status_code == 422, res.get_json()
    assert res.get_json()["field"] in ("unit_ids", "unit_id")


def test_notes_are_audited_and_follow_visibility(client, city):
    fire = call(client, "kebakaran")    # DAMKAR has a task
    crime = call(client, "kriminal")    # POLRI only
    res = client.post(f"/api/v1/incidents/{fire['id']}/notes", json={"text": "  hidran di depan toko  "},
                      headers=users.auth("dispatcher"))
    assert res.status_code == 201, res.get_json()
    notes = [e for e in res.get_json()["events"] if e["kind"] == "note"]
    assert notes[-1]["data"] == {"text": "hidran di depan toko"} and notes[-1]["actor"] == "t_dispatcher"
    own = client.post(f"/api/v1/incidents/{fire['id']}/notes", json={"text": "regu 2 berangkat"},
                      headers=users.auth("t_damkar"))
    assert own.status_code == 201
    assert client.post(f"/api/v1/incidents/{crime['id']}/notes", json={"text": "x"},
                       headers=users.auth("t_damkar")).status_code == 404
    n = city.execute(text("SELECT count(*) FROM incident_events WHERE incident_id = :i AND kind = 'note'"),
                     {"i": crime["id"]}).scalar_one()
    assert n == 0
    for bad in ({"text": "   "}, {"text": "x" * 1001}, {"text": 5}, {}):
        res = client.post(f"/api/v1/incidents/{fire['id']}/notes", json=bad)
        assert res.status_code == 422 and res.get_json()["field"] == "text", bad


def test_me_says_which_actions_the_role_may_use(client, city):
    damkar = client.get("/api/v1/me", headers=users.auth("t_damkar")).get_json()
    assert "api.patch_task" in damkar["actions"] and "api.assign" not in damkar["actions"]
    assert damkar["acts_for_agency"] == "DAMKAR"
    desk = client.get("/api/v1/me", headers=users.auth("dispatcher")).get_json()
    assert {"api.assign", "api.patch_incident", "api.incident_plan"} <= set(desk["actions"])
    assert desk["acts_for_agency"] is None
    official = client.get("/api/v1/me", headers=users.auth("official")).get_json()
    assert "api.incident_plan" not in official["actions"] and "api.add_note" in official["actions"]
    # The answer is the role table itself, not a copy.
    assert set(desk["actions"]) == {e for e, rule in POLICY.items() if rule != "public" and "dispatcher" in rule}


def test_roles_refused_on_the_console_endpoints(client, city):
    fire = call(client, "kebakaran")
    assert client.get(f"/api/v1/incidents/{fire['id']}/plan", headers=users.auth("official")).status_code == 403
    assert client.post(f"/api/v1/incidents/{fire['id']}/assignments", json={"unit_ids": [801]},
                       headers=users.auth("t_damkar")).status_code == 403
    assert client.get(f"/api/v1/incidents/{fire['id']}/plan", headers=users.auth("t_dinkes")).status_code == 404


def test_a_task_change_reaches_open_maps(client, city):
    """Acknowledging a task touches the incident row, whose trigger tells the live stream."""
    fire = call(client, "kebakaran")
    city.execute(text("UPDATE incidents SET updated_at = now() - interval '1 hour' WHERE id = :i"), {"i": fire["id"]})
    res = client.patch(f"/api/v1/incidents/{fire['id']}/tasks/DAMKAR", json={"status": "acknowledged"},
                       headers=users.auth("t_damkar"))
    assert res.status_code == 200
    touched = city.execute(text("SELECT updated_at > now() - interval '1 minute' FROM incidents WHERE id = :i"),
                           {"i": fire["id"]}).scalar_one()
    assert touched is True


def test_units_report_status_since(client, city):
    fire = call(client, "kebakaran")
    city.execute(text("UPDATE units SET status_since = now() - interval '1 hour' WHERE id = 801"))
    client.post(f"/api/v1/incidents/{fire['id']}/assignments", json={"unit_id": 801})
    after = {u["id"]: u for u in client.get("/api/v1/units").get_json()["units"]}
    assert after[801]["status"] == "dispatched" and after[801]["status_since"]
    moved = city.execute(text(
        "SELECT status_since > now() - interval '1 minute' FROM units WHERE id = 801")).scalar_one()
    assert moved is True
    still = city.execute(text("SELECT status_since FROM units WHERE id = 802")).scalar_one()
    assert still is not None
