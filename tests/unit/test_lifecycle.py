import pytest

from app.incidents.lifecycle import (
    IllegalTransition,
    check_incident_transition,
    check_task_transition,
)


@pytest.mark.parametrize("cur,new", [
    ("received", "verified"), ("verified", "dispatched"), ("received", "dispatched"),
    ("dispatched", "en_route"), ("en_route", "on_scene"), ("on_scene", "resolved"),
    ("resolved", "closed"), ("received", "prank"), ("on_scene", "cancelled"),
])
def test_legal_incident_moves(cur, new):
    check_incident_transition(cur, new)


@pytest.mark.parametrize("cur,new", [
    ("closed", "received"), ("resolved", "en_route"), ("on_scene", "verified"),
    ("received", "closed"), ("prank", "verified"), ("cancelled", "closed"),
    ("resolved", "cancelled"), ("verified", "verified"),
])
def test_illegal_incident_moves(cur, new):
    with pytest.raises(IllegalTransition):
        check_incident_transition(cur, new)


def test_unknown_status_is_value_error_not_conflict():
    with pytest.raises(ValueError) as exc:
        check_incident_transition("received", "teleported")
    assert not isinstance(exc.value, IllegalTransition)


def test_task_moves():
    check_task_transition("forwarded", "acknowledged")
    check_task_transition("acknowledged", "rejected")
    check_task_transition("forwarded", "on_scene")
    for cur, new in [("resolved", "acknowledged"), ("on_scene", "rejected"), ("rejected", "forwarded")]:
        with pytest.raises(IllegalTransition):
            check_task_transition(cur, new)

