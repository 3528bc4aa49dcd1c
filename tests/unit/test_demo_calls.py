"""The demo city's calls (issue 18): every incident was reported by a call, and the calls that were not
incidents, pranks from the repeat numbers and operators on their shifts are there too."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from geodata.demo import DemoCity, generate
from geodata.demo.calls import shift_index

UNTIL = datetime(2026, 11, 1, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return generate(seed=7, scale="small", years=0.1, until=UNTIL)


def test_every_counted_incident_was_reported_by_a_call(city: DemoCity):
    calls, inc = city.calls, city.incidents
    reported = set(calls["incident_id"].dropna().astype(int))
    real = inc[inc["category_code"] != "prank"]
    start = real["received_at"].min() + pd.Timedelta(minutes=10)  # a call may have rung before the window
    assert set(real[real["received_at"] > start]["id"]) <= reported
    assert (calls.loc[calls["incident_id"].notna(), "disposition"] == "incident").all()


def test_the_mix_of_contacts(city: DemoCity):
    calls = city.calls
    share = calls["disposition"].value_counts(normalize=True, dropna=False)
    assert share["incident"] < 0.5  # most contacts with a 112 centre are not incidents
    for kind in ("informasi", "salah_sambung", "diam", "iseng", "tes", "diteruskan"):
        assert share[kind] > 0.01, kind
    assert calls["disposition"].isna().sum() > 0  # abandoned: hung up before an answer
    assert calls.loc[calls["disposition"].isna(), "answered_at"].isna().all()
    assert set(calls.loc[calls["disposition"] == "diteruskan", "forwarded_to"]) <= {"PMI", "PLN", "PDAM"}
    repeat = set(city.manifest["prank_repeat_numbers"])
    pranks = calls[calls["disposition"] == "iseng"]
    assert pranks["caller_phone"].isin(repeat).mean() > 0.3  # a few numbers make most pranks


def test_operators_answer_on_their_shift_and_times_are_in_order(city: DemoCity):
    calls = city.calls[city.calls["answered_at"].notna()]
    seconds = (calls["offered_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    desk = calls["operator"].str.removeprefix("operator-").astype(int).to_numpy()
    assert set(desk) <= set(range(1, 13))
    incident_calls = calls["incident_id"].notna().to_numpy()
    shift = shift_index(seconds)
    # The operator's shift is the one on duty when the call rang (the first call of an incident: when it was logged).
    assert ((desk[~incident_calls] - 1) // 4 == shift[~incident_calls]).mean() > 0.99
    assert (city.calls["answered_at"].dropna() >= city.calls.loc[city.calls["answered_at"].notna(), "offered_at"]).all()
    assert (city.calls["ended_at"] >= city.calls["offered_at"]).all()
    assert city.calls["ended_at"].max() <= city.until


def test_same_seed_same_calls(city: DemoCity):
    again = generate(seed=7, scale="small", years=0.1, until=UNTIL)
    assert again.fingerprint() == city.fingerprint()
    assert len(again.calls) == len(city.calls)
