"""Erlang C: how many call-takers answer a given share of 112 calls within a given time.

The supervisor's question is "how many operators do I need at 19:00 on a Saturday so that
90 % of calls are answered within 10 seconds?".  With calls arriving at random (Poisson)
at ``rate`` per second, each holding an operator for ``aht_s`` seconds on average, the
offered load is A = rate x aht_s Erlangs, and with N operators (N > A):

* the chance a caller waits at all is Erlang C, computed here through the numerically
  stable Erlang B recursion (B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)); C = N B / (N - A (1 - B)));
* the share answered within t seconds is 1 - C exp(-(N - A) t / aht_s);
* the mean wait is C aht_s / (N - A).

pyworkforce implements the same, but its current release (0.5.4) needs Python 3.12 and the
last one for 3.11 (0.5.1) pulls in OR-Tools and pandas; these lines need nothing
(tests/unit/test_erlang.py checks them against closed forms and a scipy computation).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MAX_AGENTS = 1000


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of ``agents`` servers offered ``erlangs`` of load (no queue)."""
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return b


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability that a call waits (all ``agents`` busy); 1 when the load reaches the agents."""
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1 - b))


def service_level(agents: int, erlangs: float, aht_s: float, within_s: float) -> float:
    """Share of calls answered within ``within_s`` seconds."""
    if erlangs <= 0:
        return 1.0
    if agents <= erlangs:
        return 0.0
    return 1.0 - erlang_c(agents, erlangs) * math.exp(-(agents - erlangs) * within_s / aht_s)


def mean_wait_s(agents: int, erlangs: float, aht_s: float) -> float:
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return math.inf
    return erlang_c(agents, erlangs) * aht_s / (agents - erlangs)


@dataclass(frozen=True)
class Staffing:
    calls_per_hour: float
    aht_s: float
    erlangs: float
    agents: int  # on the phones
    scheduled: int  # rostered, after shrinkage (breaks, training, absence)
    service_level: float
    wait_probability: float
    mean_wait_s: float
    occupancy: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def required(calls_per_hour: float, aht_s: float, target: float = 0.9, within_s: float = 10.0,
             max_occupancy: float = 1.0, shrinkage: float = 0.0, minimum: int = 1) -> Staffing:
    """The fewest operators that answer ``target`` of calls within ``within_s`` (and keep occupancy under the cap).

    A 112 line is never left unstaffed, so at least ``minimum`` operators are on even when no calls are expected.
    """
    if not (calls_per_hour >= 0 and aht_s > 0 and 0 < target < 1 and within_s >= 0 and 0 < max_occupancy <= 1
            and 0 <= shrinkage < 1 and math.isfinite(calls_per_hour) and math.isfinite(aht_s)):
        raise ValueError("calls >= 0, handle time > 0, 0 < target < 1, 0 < occupancy cap <= 1, 0 <= shrinkage < 1")
    erlangs = calls_per_hour * aht_s / 3600.0
    agents = max(minimum, math.floor(erlangs) + 1 if erlangs > 0 else minimum)
    while agents <= MAX_AGENTS and (service_level(agents, erlangs, aht_s, within_s) < target
                                    or erlangs / agents > max_occupancy):
        agents += 1
    if agents > MAX_AGENTS:
        raise ValueError(f"more than {MAX_AGENTS} operators needed: check the load")
    return Staffing(calls_per_hour=calls_per_hour, aht_s=aht_s, erlangs=erlangs, agents=agents,
                    scheduled=math.ceil(agents / (1 - shrinkage) - 1e-9),
                    service_level=service_level(agents, erlangs, aht_s, within_s),
                    wait_probability=erlang_c(agents, erlangs), mean_wait_s=mean_wait_s(agents, erlangs, aht_s),
                    occupancy=erlangs / agents)
