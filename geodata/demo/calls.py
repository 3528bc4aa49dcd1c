"""The calls of Kota Contoh: every contact with the centre, not only those that became incidents.

Built from the incident history so that both tell one story: each incident was reported
by a call (some by two or three: several people phone about one fire), answered by the
operator on duty who logged it; around them come the calls that were not incidents, in
the proportions Indonesian 112 centres report (information requests, wrong numbers,
silent lines, pranks from a few repeat numbers, test calls, blood requests forwarded to
PMI and outages to PLN/PDAM), plus callers who hung up before anyone answered.  Operators
work three shifts of four desks (app.calls.staffing.SHIFT_STARTS), so every screen of the
call centre (staffing, operators, pranks, the monthly recap) has data after ``make run``.
Vectorised and drawn from its own random stream: the rest of the city does not move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.calls.staffing import SHIFT_STARTS

WIB = 7 * 3600
DESKS_PER_SHIFT = 4
# Non-incident contacts per incident, and their mix.
OTHER_PER_INCIDENT = 1.6
OTHER_MIX = {"informasi": 0.34, "salah_sambung": 0.14, "diam": 0.22, "iseng": 0.14, "tes": 0.05, "diteruskan": 0.11}
FORWARDED = (("PMI", 0.6), ("PLN", 0.2), ("PDAM", 0.2))
# Median handle time (s) by disposition; log-normal with sigma 0.5.
HANDLE_S = {"incident": 150, "informasi": 95, "salah_sambung": 15, "diam": 25, "iseng": 30, "tes": 12,
            "diteruskan": 80}
ABANDONED_SHARE = 0.04  # of the other contacts: the caller hung up before an answer
EXTRA_CALLS_SHARE = 0.1  # incidents reported by more than one caller
CHANNEL_OF_SOURCE = {"phone": "phone", "radio": "phone", "app": "web", "whatsapp": "chat"}
AML_SHARE = 0.7  # contacts placed in a kelurahan by the handset's location


def shift_index(utc_seconds: np.ndarray) -> np.ndarray:
    """0 pagi, 1 siang, 2 malam, by local (WIB) hour and the shift starts."""
    hour = ((utc_seconds + WIB) % 86400) // 3600
    pagi, siang, malam = SHIFT_STARTS["pagi"], SHIFT_STARTS["siang"], SHIFT_STARTS["malam"]
    return np.where((hour >= pagi) & (hour < siang), 0, np.where((hour >= siang) & (hour < malam), 1, 2))


def operators_on_duty(utc_seconds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the four operators of the shift on duty at each instant (``operator-1`` .. ``operator-12``)."""
    desk = shift_index(utc_seconds) * DESKS_PER_SHIFT + rng.integers(1, DESKS_PER_SHIFT + 1, len(utc_seconds))
    return ("operator-" + desk.astype(str)).astype(object)


def _ln(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _seconds(col: pd.Series) -> np.ndarray:
    epoch = pd.Timestamp(0, tz="UTC")
    return (col - epoch).dt.total_seconds().to_numpy() if len(col) else np.zeros(0)


def build_calls(incidents: pd.DataFrame, events: pd.DataFrame, repeat_numbers: list[str], start: float,
                end: float, rng: np.random.Generator) -> pd.DataFrame:
    """The ``calls`` table (1-based ids as loaded) for ``incidents`` (with ids) and their 'created' events."""
    n_inc = len(incidents)
    received = _seconds(incidents["received_at"])
    created = events[events["kind"] == "created"].drop_duplicates("incident_id").set_index("incident_id")["actor"]
    inc_ids = incidents["id"].to_numpy()
    inc_operator = created.reindex(inc_ids).to_numpy(dtype=object)
    missing = pd.isna(inc_operator)
    inc_operator[missing] = operators_on_duty(received[missing], rng)

    # Calls that reported incidents: the first one, then a few more for some.
    extra = rng.random(n_inc) < EXTRA_CALLS_SHARE
    extra_idx = np.flatnonzero(extra).repeat(rng.integers(1, 3, int(extra.sum())))
    rep_idx = np.concatenate([np.arange(n_inc), extra_idx])
    rep_first = np.concatenate([np.ones(n_inc, bool), np.zeros(len(extra_idx), bool)])
    answer = _ln(rng, 6, 0.6, len(rep_idx))
    # The first caller's answer ends before the incident is logged; later callers ring within minutes.
    offered = np.where(rep_first, received[rep_idx] - answer - _ln(rng, 40, 0.4, len(rep_idx)),
                       received[rep_idx] + rng.uniform(20, 900, len(rep_idx)))
    source = incidents["source"].to_numpy(dtype=object)[rep_idx]
    phones = incidents["caller_phone"].to_numpy(dtype=object)
    rep = pd.DataFrame({
        "channel": [CHANNEL_OF_SOURCE.get(s, "phone") for s in source],
        "caller_phone": np.where(rep_first, phones[rep_idx], None),
        "offered": offered, "answer": answer,
        "handle": _ln(rng, HANDLE_S["incident"], 0.5, len(rep_idx)),
        "disposition": "incident", "incident_id": inc_ids[rep_idx],
        "kelurahan_id": incidents["kelurahan_id"].to_numpy()[rep_idx],
        "operator": np.where(rep_first, inc_operator[rep_idx],
                             operators_on_duty(offered, rng)),
    })
    is_prank_inc = incidents["category_code"].to_numpy() == "prank"
    rep.loc[is_prank_inc[rep_idx], "disposition"] = "iseng"  # a prank logged as an incident was a prank call
    rep.loc[is_prank_inc[rep_idx], "incident_id"] = np.nan  # ... the incident keeps its record
    later = ~rep_first
    rep.loc[later, "caller_phone"] = _numbers(rng, int(later.sum()))

    # Contacts that were not incidents, at the times incidents happen (the same daily rhythm).
    n_other = int(n_inc * OTHER_PER_INCIDENT)
    kinds = np.asarray(list(OTHER_MIX), dtype=object)
    disp = kinds[rng.choice(len(kinds), n_other, p=np.asarray(list(OTHER_MIX.values())))]
    prank_times = received[is_prank_inc] if is_prank_inc.any() else received
    base = np.where(disp == "iseng", rng.choice(prank_times, n_other), rng.choice(received, n_other))
    offered_o = base + rng.normal(0, 1800, n_other)
    phones_o = _numbers(rng, n_other)
    repeat = (disp == "iseng") & (rng.random(n_other) < 0.55) & bool(repeat_numbers)
    if repeat.any():
        zipf = 1.0 / np.arange(1, len(repeat_numbers) + 1) ** 1.1
        phones_o[repeat] = np.asarray(repeat_numbers, dtype=object)[
            rng.choice(len(repeat_numbers), int(repeat.sum()), p=zipf / zipf.sum())]
    abandoned = rng.random(n_other) < ABANDONED_SHARE
    handle_o = np.asarray([HANDLE_S[d] for d in disp], dtype=float) * np.exp(0.5 * rng.standard_normal(n_other))
    kel_pool = incidents["kelurahan_id"].to_numpy()
    located = rng.random(n_other) < AML_SHARE
    other = pd.DataFrame({
        "channel": rng.choice(np.array(["phone", "chat", "sms"], dtype=object), n_other, p=[0.9, 0.06, 0.04]),
        "caller_phone": phones_o, "offered": offered_o, "answer": _ln(rng, 6, 0.6, n_other), "handle": handle_o,
        "disposition": np.where(abandoned, None, disp), "incident_id": np.nan,
        "kelurahan_id": np.where(located, rng.choice(kel_pool, n_other), np.nan) if n_inc else np.nan,
        "operator": operators_on_duty(offered_o, rng),
    })
    forwarded = other["disposition"].to_numpy() == "diteruskan"
    services, weights = zip(*FORWARDED, strict=True)
    other["forwarded_to"] = np.where(forwarded, rng.choice(np.array(services, dtype=object), n_other,
                                                           p=np.asarray(weights)), None)
    rep["forwarded_to"] = None

    calls = pd.concat([rep, other], ignore_index=True)
    calls = calls[(calls["offered"] >= start) & (calls["offered"] < end)]
    calls = calls.sort_values("offered", kind="stable").reset_index(drop=True)
    gone = calls["disposition"].isna().to_numpy()
    offered_s = calls["offered"].to_numpy()
    answered_s = np.where(gone, np.nan, offered_s + calls["answer"].to_numpy())
    ended_s = np.where(gone, offered_s + _ln(rng, 15, 0.6, len(calls)), answered_s + calls["handle"].to_numpy())
    ended_s = np.minimum(ended_s, end)  # nothing ends after the demo's now
    answered_s = np.where(answered_s > end, np.nan, answered_s)
    ms = lambda s: pd.Series(pd.to_datetime(np.round(s * 1000), unit="ms", utc=True))  # noqa: E731
    out = pd.DataFrame({
        "id": np.arange(1, len(calls) + 1),
        "channel": calls["channel"].to_numpy(dtype=object),
        "caller_phone": calls["caller_phone"].to_numpy(dtype=object),
        "line": "112",
        "operator": np.where(np.isnan(answered_s), None, calls["operator"].to_numpy(dtype=object)),
        "offered_at": ms(offered_s), "answered_at": ms(answered_s), "ended_at": ms(ended_s),
        "disposition": calls["disposition"].to_numpy(dtype=object),
        "forwarded_to": calls["forwarded_to"].to_numpy(dtype=object),
        "incident_id": pd.array(calls["incident_id"].to_numpy(), dtype="Int64"),
        "kelurahan_id": pd.array(calls["kelurahan_id"].to_numpy(), dtype="Int64"),
        "created_by": "demo",
    })
    out["disposition"] = out["disposition"].where(out["answered_at"].notna(), None)
    out["updated_at"] = out["ended_at"].fillna(out["offered_at"])
    return out


def _numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    from geodata.demo import names

    return np.asarray(names.phone_numbers(n, rng), dtype=object)
