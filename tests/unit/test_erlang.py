"""Erlang C staffing against closed forms and an independent computation with scipy's Poisson law."""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from app.calls import erlang


def reference_c(agents: int, erlangs: float) -> float:
    """Erlang C from its textbook definition, with Poisson terms (A^k e^-A / k!) from scipy."""
    top = poisson.pmf(agents, erlangs) * agents / (agents - erlangs)
    return top / (poisson.cdf(agents - 1, erlangs) + top)


def reference_agents(calls_per_hour: float, aht_s: float, target: float, within_s: float) -> int:
    a = calls_per_hour * aht_s / 3600
    n = math.floor(a) + 1
    while 1 - reference_c(n, a) * math.exp(-(n - a) * within_s / aht_s) < target:
        n += 1
    return n


def test_closed_forms_of_one_and_two_servers():
    for a in (0.1, 0.5, 0.9):
        assert erlang.erlang_c(1, a) == pytest.approx(a)  # M/M/1: a caller waits with probability rho
    for a in (0.3, 1.0, 1.7):
        assert erlang.erlang_c(2, a) == pytest.approx(a * a / (2 + a))  # M/M/2
    assert erlang.mean_wait_s(1, 0.5, 120) == pytest.approx(0.5 * 120 / 0.5)


@pytest.mark.parametrize(("agents", "erlangs"), [(3, 2.0), (12, 10.0), (30, 24.5), (120, 100.0), (400, 380.0)])
def test_erlang_c_equals_the_reference(agents, erlangs):
    assert erlang.erlang_c(agents, erlangs) == pytest.approx(reference_c(agents, erlangs), rel=1e-9)


@pytest.mark.parametrize(("calls", "aht", "target", "within"), [
    (4, 95, 0.9, 10), (30, 95, 0.9, 10), (120, 110, 0.9, 10), (360, 240, 0.8, 20), (1500, 180, 0.95, 5)])
def test_recommended_operators_equal_the_reference(calls, aht, target, within):
    got = erlang.required(calls, aht, target, within)
    assert got.agents == reference_agents(calls, aht, target, within)
    assert got.service_level >= target
    # One operator fewer misses the target: the recommendation is the smallest that meets it.
    if got.agents - 1 > got.erlangs:
        assert erlang.service_level(got.agents - 1, got.erlangs, aht, within) < target


def test_textbook_example():
    # The usual worked example: 100 calls per half hour of 180 s each is 10 Erlangs; 80 % within
    # 20 s takes 14 agents (service level 64.0 % with 12, 79.6 % with 13, 88.8 % with 14).
    assert [round(erlang.service_level(n, 10.0, 180, 20), 3) for n in (12, 13, 14)] == [0.640, 0.796, 0.888]
    got = erlang.required(200, 180, 0.8, 20)
    assert got.erlangs == pytest.approx(10.0) and got.agents == 14
    assert got.wait_probability == pytest.approx(0.1741, abs=1e-4) and got.occupancy == pytest.approx(10 / 14)


def test_a_112_line_is_never_unstaffed_and_shrinkage_rosters_more():
    quiet = erlang.required(0, 90)
    assert quiet.agents == 1 and quiet.service_level == 1.0
    busy = erlang.required(120, 110, shrinkage=0.3)
    assert busy.scheduled == math.ceil(busy.agents / 0.7)
    capped = erlang.required(120, 110, max_occupancy=0.5)
    assert capped.occupancy <= 0.5 and capped.agents >= busy.agents


@pytest.mark.parametrize("bad", [dict(calls_per_hour=-1, aht_s=90), dict(calls_per_hour=10, aht_s=0),
                                 dict(calls_per_hour=10, aht_s=90, target=1.0), dict(calls_per_hour=math.inf, aht_s=9)])
def test_impossible_questions_are_refused(bad):
    with pytest.raises(ValueError):
        erlang.required(**bad)
