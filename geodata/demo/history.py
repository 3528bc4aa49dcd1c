"""Incident history of Kota Contoh with planted, checkable patterns.

Counts are Poisson per (category, day) with weekly and seasonal factors, storm
days in the rainy season (Nov-Mar), spring tides for rob and a slow growth
trend; times of day follow a per-category diurnal profile (WIB, UTC+7); places
follow the kelurahan flags (floods along rivers in low-lying kelurahan, rob on
the coast, fires in dense kampung, landslides on the southern hills, fallen
trees on tree-lined arterials, accidents on arterials) plus planted hotspots.
Every timestamp of the lifecycle and of each agency task is drawn from
log-normal delays, with one agency (the manifest's ``slow_agency``) much slower
to acknowledge.  Anything after the end instant is left open, so the last
hours show live incidents.  All of it is vectorised: 50k incidents take a
second or two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from app.incidents.lifecycle import INCIDENT_CHAIN
from geodata.demo import names as N
from geodata.demo.calls import operators_on_duty
from geodata.demo.catalog import Catalog
from geodata.demo.frame import ScaleSpec
from geodata.demo.network import Network, Terrain
from geodata.demo.stations import Locator

WIB = 7 * 3600  # local time offset: diurnal cycles follow the clock on the wall
DAY = 86400.0
RAINY_MONTHS = (11, 12, 1, 2, 3)
SLOW_CANDIDATES = ("PU", "DLH", "SATPOLPP", "DINSOS", "BPBD")

# Share of an average day's calls per category; prank about 15%.
SHARE = {
    "ambulans": 0.13, "kecelakaan": 0.11, "kriminal": 0.05, "kebakaran": 0.04, "pohon_tumbang": 0.035,
    "banjir": 0.03, "rob": 0.02, "tanah_longsor": 0.006, "mobil_jenazah": 0.035, "pju_mati": 0.06,
    "narkoba": 0.02, "sarang_tawon": 0.04, "gepeng": 0.05, "perjudian": 0.02, "gangguan_ketertiban": 0.04,
    "lingkungan": 0.05, "permintaan_darah": 0.03, "info_kesehatan": 0.055, "prank": 0.15,
}
# Operator desk and field delays (medians, seconds) per agency: acknowledge, get moving.
ACK_S = {"DAMKAR": 40, "DINKES": 60, "POLRI": 90, "BPBD": 120, "PU": 420, "DLH": 480, "SATPOLPP": 300,
         "DINSOS": 540, "PMI": 240, "BNN": 600, "DISHUB": 300, "PLN": 420}
PREP_S = {"DAMKAR": 60, "DINKES": 60, "POLRI": 90, "BPBD": 180}
# on scene -> resolved (median seconds)
WORK_S = {
    "kebakaran": 2700, "banjir": 4 * 3600, "rob": 3 * 3600, "tanah_longsor": 4 * 3600, "kecelakaan": 1800,
    "ambulans": 1500, "mobil_jenazah": 1800, "pohon_tumbang": 5400, "pju_mati": 3600, "kriminal": 1800,
    "narkoba": 3600, "sarang_tawon": 1800, "gepeng": 1800, "perjudian": 2400, "gangguan_ketertiban": 2400,
    "lingkungan": 3600, "permintaan_darah": 3600, "info_kesehatan": 300,
}
NO_FIELD_VISIT = ("info_kesehatan",)  # answered by phone: no en route / on scene
DESCRIPTIONS = {
    "kebakaran": ("Kebakaran rumah warga", "Api terlihat dari gudang", "Kebakaran lapak pasar",
                  "Korsleting listrik, asap tebal"),
    "banjir": ("Banjir setinggi lutut", "Air masuk rumah warga", "Jalan tergenang, motor mogok"),
    "rob": ("Rob masuk permukiman", "Air laut pasang menggenangi jalan", "Tanggul rob limpas"),
    "tanah_longsor": ("Tanah longsor menimpa rumah", "Tebing longsor menutup jalan"),
    "kecelakaan": ("Tabrakan motor dan mobil", "Pengendara motor jatuh", "Kecelakaan beruntun",
                   "Pejalan kaki tertabrak"),
    "ambulans": ("Pasien sesak napas", "Lansia jatuh di rumah", "Ibu hamil akan melahirkan", "Pingsan di jalan"),
    "mobil_jenazah": ("Permintaan mobil jenazah", "Jenazah perlu diantar ke pemakaman"),
    "pohon_tumbang": ("Pohon tumbang menutup jalan", "Dahan patah menimpa kabel", "Pohon roboh menimpa mobil"),
    "pju_mati": ("Lampu jalan mati", "PJU padam satu ruas", "Lampu jalan berkedip"),
    "kriminal": ("Pencurian motor", "Perkelahian antarwarga", "Penjambretan", "Tawuran pelajar"),
    "narkoba": ("Dugaan transaksi narkoba", "Pesta sabu di rumah kos"),
    "sarang_tawon": ("Sarang tawon di atap rumah", "Sarang tawon vespa di pohon"),
    "gepeng": ("Pengemis di perempatan", "Pengamen memaksa", "Gelandangan tidur di trotoar"),
    "perjudian": ("Judi sabung ayam", "Penjualan miras ilegal"),
    "gangguan_ketertiban": ("Musik keras tengah malam", "Parkir liar", "Dugaan prostitusi"),
    "lingkungan": ("Sampah menumpuk", "Bau limbah pabrik", "Saluran air tersumbat"),
    "permintaan_darah": ("Butuh darah golongan O", "Butuh darah golongan A untuk operasi"),
    "info_kesehatan": ("Tanya jadwal vaksin", "Tanya rumah sakit rujukan", "Tanya layanan BPJS"),
    "prank": ("Telepon iseng, tidak ada suara", "Anak-anak bermain telepon", "Laporan palsu"),
}
STATES = INCIDENT_CHAIN
TS_COLS = ("received_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at", "resolved_at",
           "closed_at", "cancelled_at")
TASK_TS = ("forwarded_at", "acknowledged_at", "en_route_at", "on_scene_at", "resolved_at", "rejected_at")


def _profile(peaks: list[tuple[float, float, float]], floor: float = 0.15) -> np.ndarray:
    """24 hourly weights: a floor plus Gaussian bumps (hour, width, height), wrapping at midnight."""
    h = np.arange(24) + 0.5
    w = np.full(24, floor)
    for c, s, a in peaks:
        d = np.minimum(np.abs(h - c), 24 - np.abs(h - c))
        w = w + a * np.exp(-0.5 * (d / s) ** 2)
    return w / w.sum()


DAYTIME = _profile([(10, 3, 1.0), (19.5, 2, 0.8)])
PROFILES = {
    "kecelakaan": _profile([(7.5, 1.2, 1.6), (17, 1.5, 1.5), (23, 2, 0.4)]),
    "kriminal": _profile([(1, 2.5, 1.2), (22, 2, 1.0)], 0.25),
    "narkoba": _profile([(23, 3, 1.0)], 0.2),
    "perjudian": _profile([(22, 3, 1.0)], 0.2),
    "gangguan_ketertiban": _profile([(23, 2.5, 1.0)], 0.25),
    "prank": _profile([(14.5, 2, 1.2), (20, 2, 0.8)], 0.1),
    "kebakaran": _profile([(11.5, 2, 1.0), (17.5, 1.5, 0.8)], 0.25),
    "banjir": _profile([(16, 2.5, 1.5)], 0.25),
    "pohon_tumbang": _profile([(15.5, 2, 1.5)], 0.15),
    "tanah_longsor": _profile([(17, 3, 1.0)], 0.3),
    "rob": _profile([(8, 2, 0.8), (20, 2, 0.8)], 0.3),
    "pju_mati": _profile([(19.5, 1.5, 1.5), (6, 1, 0.5)], 0.1),
}


@dataclass
class History:
    incidents: pd.DataFrame
    tasks: pd.DataFrame
    events: pd.DataFrame
    assignments: pd.DataFrame
    units: pd.DataFrame  # the stations' units, some now busy on the open incidents
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    spec: ScaleSpec
    terrain: Terrain
    net: Network
    areas: pd.DataFrame
    loc: Locator
    places: pd.DataFrame
    stations: pd.DataFrame
    units: pd.DataFrame
    catalog: Catalog


def _ln(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median, float) * rng.lognormal(0.0, sigma, n)


def build_history(ctx: Context, start: datetime, end: datetime, rng: np.random.Generator) -> History:
    """Incidents from ``start`` to ``end`` (UTC), their tasks, audit events and open assignments."""
    cat_codes = list(ctx.catalog.categories)
    missing = set(cat_codes) - set(SHARE)
    if missing:
        raise ValueError(f"no demo share for categories {sorted(missing)}")
    t_start, t_end = start.timestamp(), end.timestamp()
    slow = str(rng.choice(SLOW_CANDIDATES))
    ack = dict(ACK_S)
    ack[slow] = 3.0 * max(v for k, v in ACK_S.items() if k != slow)

    # -- counts per (category, local day) ---------------------------------------------------
    day0 = np.floor((t_start + WIB) / DAY) * DAY - WIB  # first local midnight, in UTC seconds
    n_days = int(np.ceil((t_end - day0) / DAY))
    day_t = day0 + np.arange(n_days) * DAY
    local = pd.to_datetime(day_t + WIB, unit="s")
    month, dow = local.month.to_numpy(), local.day_of_week.to_numpy()
    rainy = np.isin(month, RAINY_MONTHS)
    storm = rng.random(n_days) < np.where(rainy, 0.18, 0.02)
    tide = 1 + 0.8 * np.cos(4 * np.pi * ((day_t - 947116800.0) / DAY) / 29.530589)  # new moon 2000-01-06
    trend = 1 + 0.08 * (day_t - day0) / (365.25 * DAY)
    weekend = dow >= 5
    lam = np.empty((len(cat_codes), n_days))
    for c, code in enumerate(cat_codes):
        f = np.ones(n_days)
        if code == "banjir":
            f = np.where(rainy, 2.5, 0.12) * np.where(storm, 5.0, 1.0)
        elif code == "rob":
            f = tide * np.where(rainy, 1.3, 0.8)
        elif code == "pohon_tumbang":
            f = np.where(rainy, 1.6, 0.5) * np.where(storm, 6.0, 1.0)
        elif code == "tanah_longsor":
            f = np.where(rainy, 2.2, 0.1) * np.where(storm, 4.0, 1.0)
        elif code == "kebakaran":
            f = np.where(np.isin(month, (7, 8, 9, 10)), 1.7, 0.8)
        elif code in ("kecelakaan", "kriminal", "gangguan_ketertiban", "prank"):
            f = np.where(dow >= 4, 1.2, 0.95)
        elif code in ("gepeng", "pju_mati", "lingkungan", "info_kesehatan"):
            f = np.where(weekend, 0.7, 1.1)
        lam[c] = ctx.spec.incidents_per_day * SHARE[code] * f * trend
    counts = rng.poisson(lam)
    for c in np.flatnonzero(counts.sum(axis=1) == 0):  # every category appears, even in a short window
        counts[c, int(np.argmax(lam[c]))] = 1
    cat = np.repeat(np.repeat(np.arange(len(cat_codes)), n_days), counts.ravel())
    day = np.repeat(np.tile(np.arange(n_days), len(cat_codes)), counts.ravel())
    hour = np.empty(len(cat), np.int64)
    for c, code in enumerate(cat_codes):
        m = cat == c
        hour[m] = rng.choice(24, m.sum(), p=PROFILES.get(code, DAYTIME))
    received = day_t[day] + hour * 3600.0 + rng.uniform(0, 3600, len(cat))

    # a handful of calls in the last minutes and hours, so the live map has something to show
    live_codes = np.array([cat_codes.index(c) for c in ("kecelakaan", "kebakaran", "ambulans", "kriminal",
                                                         "pohon_tumbang", "banjir", "pju_mati", "sarang_tawon")])
    n_live = ctx.spec.open_incidents
    live_cat = rng.choice(live_codes, n_live)
    live_age = np.where(np.isin(live_cat, live_codes[:4]), rng.uniform(120, 1500, n_live),
                        rng.uniform(600, 3 * 3600, n_live))
    cat = np.concatenate([cat, live_cat])
    received = np.concatenate([received, t_end - live_age])
    keep = (received >= t_start) & (received < t_end)
    order = np.argsort(received[keep], kind="stable")
    cat, received = cat[keep][order], np.round(received[keep][order], 3)
    n = len(cat)
    codes = np.asarray(cat_codes, dtype=object)[cat]

    # -- where ------------------------------------------------------------------------------
    xy, truth_hot = _locations(ctx, codes, rng)
    kel, node = _kelurahan_of(ctx, xy)
    kec = ctx.areas["parent"].to_numpy()[kel]

    # -- who --------------------------------------------------------------------------------
    prank = codes == "prank"
    caller = N.person_names(n, rng)
    phone = N.phone_numbers(n, rng)
    repeat_phones = N.phone_numbers(15, rng)
    repeat_names = N.person_names(15, rng)
    zipf = 1.0 / np.arange(1, 16) ** 1.1
    from_repeat = prank & (rng.random(n) < 0.6)
    pick = rng.choice(15, n, p=zipf / zipf.sum())
    phone = np.where(from_repeat, repeat_phones[pick], phone)
    caller = np.where(from_repeat, repeat_names[pick], np.where(prank & (rng.random(n) < 0.5), None, caller))
    desc = np.empty(n, dtype=object)
    for code in np.unique(codes):
        m = codes == code
        opts = np.asarray(DESCRIPTIONS[code], dtype=object)
        desc[m] = opts[rng.integers(0, len(opts), m.sum())]
    source = rng.choice(np.array(["phone", "app", "whatsapp", "radio"], dtype=object), n, p=[0.85, 0.08, 0.05, 0.02])
    kel_name = ctx.areas["name"].to_numpy()[kel]
    kec_name = ctx.areas["name"].to_numpy()[kec]
    street = ctx.loc.node_street[node]
    num = rng.integers(1, 250, n)
    rt, rw = rng.integers(1, 16, n), rng.integers(1, 12, n)
    addr = [f"{s} No. {a} RT {b:02d}/RW {c:02d}, Kel. {k}, Kec. {d}"
            for s, a, b, c, k, d in zip(street, num.tolist(), rt.tolist(), rw.tolist(), kel_name, kec_name,
                                        strict=True)]

    # -- when: incident desk, then one task per responsible agency ---------------------------
    cats = ctx.catalog.categories
    priority = np.array([cats[c].priority for c in cat_codes])[cat]
    verified = received + _ln(rng, 40, 0.5, n)
    dispatched = verified + _ln(rng, 35, 0.5, n)
    cancel = ~prank & (rng.random(n) < 0.02)
    cancelled = np.where(cancel, dispatched + _ln(rng, 240, 0.6, n), np.nan)
    per_cat = [cats[c].agencies for c in cat_codes]
    n_tasks = np.array([len(a) for a in per_cat])[cat]
    t_inc = np.repeat(np.arange(n), n_tasks)
    t_agency = np.concatenate([np.array([a for a, _ in per_cat[c]], dtype=object) for c in cat]) if n else \
        np.empty(0, dtype=object)
    t_support = np.concatenate([np.array([r == "support" for _, r in per_cat[c]], bool) for c in cat]) if n else \
        np.empty(0, bool)
    m = len(t_inc)
    t_code = codes[t_inc]
    is_slow = t_agency == slow
    t_fwd = dispatched[t_inc]
    t_ack = t_fwd + _ln(rng, np.array([ack[a] for a in t_agency]), 0.6, m)
    target = np.array([cats[c].target_s for c in cat_codes])[cat][t_inc]
    emerg = np.array([cats[c].emergency for c in cat_codes])[cat][t_inc]
    prep = _ln(rng, np.array([PREP_S.get(a, 600) for a in t_agency]), 0.5, m)
    travel_med = np.where(emerg, 0.45 * target, 0.3 * target) * np.where(t_support, 1.3, 1.0) * \
        np.where(is_slow, 1.5, 1.0)
    t_enr = t_ack + prep
    t_ons = t_enr + _ln(rng, travel_med, 0.45, m)
    work = _ln(rng, np.array([WORK_S[c] for c in t_code]), 0.6, m) * np.where(t_support, 0.6, 1.0)
    t_res = t_ons + work
    phone_only = np.isin(t_code, NO_FIELD_VISIT)
    t_res = np.where(phone_only, t_ack + _ln(rng, 300, 0.5, m), t_res)
    t_enr[phone_only] = np.nan
    t_ons[phone_only] = np.nan
    reject = t_support & (rng.random(m) < 0.04)
    t_rej = np.where(reject, t_ack, np.nan)
    t_enr[reject] = t_ons[reject] = t_res[reject] = np.nan
    # a cancelled call stops every task at the cancellation
    t_cancel = cancelled[t_inc]
    stopped = ~np.isnan(t_cancel)
    for arr in (t_ack, t_enr, t_ons, t_res):
        arr[stopped & (arr > t_cancel)] = np.nan
    t_rej = np.where(stopped, t_cancel, t_rej)
    reason = np.where(stopped, "insiden dibatalkan pelapor", np.where(reject, "bukan kewenangan", None))

    ok = ~reject
    starts = np.searchsorted(t_inc, np.arange(n))
    has = n_tasks > 0

    def reduce(fn: Any, arr: np.ndarray) -> np.ndarray:
        """Per-incident min/max over its tasks (a NaN sentinel closes the last group)."""
        out = np.full(n, np.nan)
        if m:
            red = fn.reduceat(np.append(np.where(ok, arr, np.nan), np.nan), starts)
            out[has] = red[has]
        return out

    en_route = reduce(np.fmin, t_enr)
    on_scene = reduce(np.fmin, t_ons)
    resolved = reduce(np.fmax, t_res)
    closed = resolved + _ln(rng, 900, 0.8, n)
    for arr in (en_route, on_scene, resolved, closed):
        arr[cancel & (arr > cancelled)] = np.nan
    resolved[cancel] = closed[cancel] = np.nan
    # a prank is recognised at the desk and closed there
    verified[prank] = dispatched[prank] = np.nan
    closed[prank] = received[prank] + _ln(rng, 50, 0.5, int(prank.sum()))

    # -- the end instant: whatever has not happened yet stays open ---------------------------
    inc_ts = {"received_at": received, "verified_at": verified, "dispatched_at": dispatched,
              "en_route_at": en_route, "on_scene_at": on_scene, "resolved_at": resolved, "closed_at": closed,
              "cancelled_at": cancelled}
    for arr in inc_ts.values():
        arr[arr > t_end] = np.nan
    task_ts = {"forwarded_at": t_fwd, "acknowledged_at": t_ack, "en_route_at": t_enr, "on_scene_at": t_ons,
               "resolved_at": t_res, "rejected_at": t_rej}
    for arr in task_ts.values():
        arr[arr > t_end] = np.nan
    status = np.full(n, "received", dtype=object)
    for s in STATES[1:]:
        status[~np.isnan(inc_ts[f"{s}_at"])] = s
    status[~np.isnan(cancelled)] = "cancelled"
    status[prank] = np.where(np.isnan(closed[prank]), "received", "prank")
    t_status = np.full(m, "forwarded", dtype=object)
    for s, col in (("acknowledged", "acknowledged_at"), ("en_route", "en_route_at"),
                   ("on_scene", "on_scene_at"), ("resolved", "resolved_at"), ("rejected", "rejected_at")):
        t_status[~np.isnan(task_ts[col])] = s
    reason = np.where(t_status == "rejected", reason, None)
    forwarded_ok = ~np.isnan(t_fwd)
    updated = np.fmax.reduce(np.vstack(list(inc_ts.values())), axis=0)

    incidents = pd.DataFrame({
        "category_code": codes, "status": status, "priority": priority.astype(np.int16), "source": source,
        "address": addr, "kel": kel, "kec": kec, "caller_name": caller, "caller_phone": phone,
        "description": desc, "is_prank": prank,
        **{k: _dt(v) for k, v in inc_ts.items()}, "updated_at": _dt(updated),
        "x": xy[:, 0], "y": xy[:, 1],
    })
    tasks = pd.DataFrame({
        "incident": t_inc, "agency_code": t_agency, "status": t_status,
        **{k: _dt(v) for k, v in task_ts.items()}, "reject_reason": reason,
    })[forwarded_ok].reset_index(drop=True)

    operator = operators_on_duty(received, rng)  # the shift on duty (app.calls.staffing.SHIFT_STARTS)
    primary = np.array([a[0][0] if a else "" for a in per_cat], dtype=object)[cat]
    events = _events(cat_codes, per_cat, cat, inc_ts, prank, operator, primary)
    units, assignments = _assign_open_units(ctx, incidents, tasks, operator, rng)

    ack_med = (tasks["acknowledged_at"] - tasks["forwarded_at"]).dt.total_seconds().groupby(
        tasks["agency_code"]).median()
    flood = ctx.areas[ctx.areas["props"].map(lambda p: bool(p.get("flood_prone")))]
    coastal = ctx.areas[ctx.areas["props"].map(lambda p: bool(p.get("coastal")))]
    truth = {
        "hotspots": truth_hot,
        "flood_prone_kelurahan": sorted(flood["code"]),
        "rob_prone_kelurahan": sorted(coastal["code"]),
        "slow_agency": {"code": slow, "ack_median_s": round(float(ack_med.get(slow, np.nan)), 1),
                        "others_max_ack_median_s": round(float(ack_med.drop(slow, errors="ignore").max()), 1)},
        "prank_repeat_numbers": [str(p) for p in repeat_phones],
        "storm_days": int(storm.sum()),
        "rainy_months": list(RAINY_MONTHS),
    }
    return History(incidents, tasks, events, assignments, units, truth)


def _dt(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(np.round(seconds * 1000), unit="ms", utc=True))


def _locations(ctx: Context, codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Incident positions: each category's typical places plus the planted hotspots."""
    net, areas = ctx.net, ctx.areas
    n = len(codes)
    nodes = net.node_xy
    kel_of = ctx.loc.node_kel
    props = areas["props"].to_numpy()
    flag = {f: np.array([bool(p.get(f)) for p in props]) for f in
            ("flood_prone", "coastal", "dense_kampung", "hilly", "riverside")}
    pop = areas["population"].to_numpy().astype(float)
    per_kel = np.bincount(kel_of, minlength=len(areas)).astype(float)
    w_pop = pop[kel_of] / np.maximum(per_kel[kel_of], 1)
    rivers = shapely.union_all([ctx.terrain.river_line(k) for k in range(ctx.spec.rivers)])
    river_d = shapely.distance(shapely.points(nodes), rivers)
    coast_d = ctx.terrain.coast_y(nodes[:, 0]) - nodes[:, 1]
    weights = {
        "pop": w_pop,
        "flood": w_pop * flag["flood_prone"][kel_of] * (river_d < 300),
        "rob": w_pop * flag["coastal"][kel_of] * (coast_d < 600),
        "kampung": w_pop * flag["dense_kampung"][kel_of],
        "hilly": w_pop * flag["hilly"][kel_of],
    }
    e = net.edges
    art = e["cls"].to_numpy() == 0
    tree = e["tree_lined"].to_numpy()
    length = e["length_m"].to_numpy()

    def from_nodes(w: np.ndarray, k: int) -> np.ndarray:
        if w.sum() <= 0:
            w = weights["pop"]
        idx = rng.choice(len(nodes), k, p=w / w.sum())
        return nodes[idx] + rng.normal(0, 12, (k, 2))

    def from_edges(mask: np.ndarray, k: int) -> np.ndarray:
        w = length * mask
        idx = rng.choice(len(length), k, p=w / w.sum())
        a = nodes[e["source"].to_numpy()[idx]]
        b = nodes[e["target"].to_numpy()[idx]]
        return a + (b - a) * rng.random((k, 1)) + rng.normal(0, 4, (k, 2))

    plan = {  # category: [(share, sampler)]
        "banjir": [(0.85, lambda k: from_nodes(weights["flood"], k))],
        "rob": [(0.9, lambda k: from_nodes(weights["rob"], k))],
        "kebakaran": [(0.6, lambda k: from_nodes(weights["kampung"], k))],
        "tanah_longsor": [(0.85, lambda k: from_nodes(weights["hilly"], k))],
        "pohon_tumbang": [(0.6, lambda k: from_edges(tree, k))],
        "kecelakaan": [(0.7, lambda k: from_edges(art, k))],
    }
    xy = np.empty((n, 2))
    for code in np.unique(codes):
        idx = np.flatnonzero(codes == code)
        u = rng.random(len(idx))
        todo = np.ones(len(idx), bool)
        lo = 0.0
        for share, sampler in plan.get(code, []):
            m = todo & (u >= lo) & (u < lo + share)
            if m.any():
                xy[idx[m]] = sampler(int(m.sum()))
            todo &= ~m
            lo += share
        if todo.any():
            xy[idx[todo]] = from_nodes(weights["pop"], int(todo.sum()))

    # planted hotspots: a share of a category's calls within a radius of a landmark
    lm = ctx.places[ctx.places["kind"] == "landmark"]
    types = lm["props"].map(lambda p: p.get("type")).to_numpy()

    def centre(kind: str, k: int = 0) -> np.ndarray:
        cand = np.flatnonzero(types == kind)
        return np.asarray(lm["geom"].iloc[int(cand[k % len(cand)])].coords[0])

    kampung_kel = np.flatnonzero(flag["dense_kampung"] & (areas["level"].to_numpy() == "kelurahan"))
    kk = [np.asarray(areas["geom"].iloc[int(i)].representative_point().coords[0]) for i in kampung_kel[:2]]
    inter = nodes[ctx.loc.major[rng.integers(len(ctx.loc.major))]]
    hot = [
        ("kriminal", centre("terminal"), 300.0, 0.25),
        ("gepeng", centre("alun_alun"), 300.0, 0.4),
        ("perjudian", centre("pasar", 1), 250.0, 0.3),
        ("gangguan_ketertiban", centre("stasiun"), 300.0, 0.3),
        ("kecelakaan", inter, 150.0, 0.12),
    ]
    if kk:
        hot.append(("narkoba", kk[0], 250.0, 0.35))
        hot.append(("kebakaran", kk[-1], 300.0, 0.2))
    truth = []
    for code, c, radius, share in hot:
        idx = np.flatnonzero((codes == code) & (rng.random(n) < share))
        r = radius * np.sqrt(rng.random(len(idx)))
        a = rng.uniform(0, 2 * np.pi, len(idx))
        xy[idx] = c + np.column_stack([r * np.cos(a), r * np.sin(a)])
        truth.append({"category": code, "x": float(c[0]), "y": float(c[1]), "radius_m": radius,
                      "share": share, "planted": int(len(idx))})
    return xy, truth


def _kelurahan_of(ctx: Context, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kelurahan (area row) containing each point, and the nearest road node (for the address)."""
    areas = ctx.areas
    kel_rows = np.flatnonzero(areas["level"].to_numpy() == "kelurahan")
    tree = shapely.STRtree(areas["geom"].to_numpy()[kel_rows])
    pts = shapely.points(xy)
    node = cKDTree(ctx.net.node_xy).query(xy)[1]
    kel = ctx.loc.node_kel[node].copy()
    hit_p, hit_t = tree.query(pts, predicate="within")
    first = np.unique(hit_p, return_index=True)[1]
    kel[hit_p[first]] = kel_rows[hit_t[first]]
    return kel, node


def _events(cat_codes: list[str], per_cat: list, cat: np.ndarray, ts: dict[str, np.ndarray], prank: np.ndarray,
            operator: np.ndarray, primary: np.ndarray) -> pd.DataFrame:
    """Audit rows: 'created', then one 'status_changed' per lifecycle step actually reached."""
    n = len(cat)
    agencies_json = np.array([json.dumps({"agencies": [a for a, _ in a_list]}) for a_list in per_cat],
                             dtype=object)[cat] if n else np.empty(0, dtype=object)
    parts: list[pd.DataFrame] = [pd.DataFrame({
        "incident": np.arange(n), "at": ts["received_at"], "actor": operator, "kind": "created",
        "from_status": None, "to_status": "received", "data": "{}",
    })]
    prev = np.full(n, "received", dtype=object)
    field_steps = ("en_route", "on_scene", "resolved")
    for s in STATES[1:]:
        at = ts[f"{s}_at"]
        m = ~np.isnan(at) & ~prank
        actor = primary if s in field_steps else operator
        data = agencies_json if s == "dispatched" else np.full(n, "{}", dtype=object)
        parts.append(pd.DataFrame({"incident": np.flatnonzero(m), "at": at[m], "actor": actor[m],
                                   "kind": "status_changed", "from_status": prev[m], "to_status": s,
                                   "data": data[m]}))
        prev = np.where(m, s, prev)
    c = ~np.isnan(ts["cancelled_at"])
    parts.append(pd.DataFrame({"incident": np.flatnonzero(c), "at": ts["cancelled_at"][c], "actor": operator[c],
                               "kind": "status_changed", "from_status": prev[c], "to_status": "cancelled",
                               "data": '{"reason": "dibatalkan pelapor"}'}))
    p = prank & ~np.isnan(ts["closed_at"])
    parts.append(pd.DataFrame({"incident": np.flatnonzero(p), "at": ts["closed_at"][p], "actor": operator[p],
                               "kind": "status_changed", "from_status": "received", "to_status": "prank",
                               "data": '{"reason": "telepon iseng"}'}))
    ev = pd.concat(parts, ignore_index=True)
    ev = ev.sort_values(["at", "incident"], kind="stable").reset_index(drop=True)
    ev["at"] = _dt(ev["at"].to_numpy())
    return ev


def _assign_open_units(ctx: Context, incidents: pd.DataFrame, tasks: pd.DataFrame, operator: np.ndarray,
                       rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put the nearest free unit of the planned type on each open incident that has been dispatched."""
    units = ctx.units.copy()
    status_map = {"dispatched": "dispatched", "en_route": "en_route", "on_scene": "on_scene"}
    rows = []
    open_idx = np.flatnonzero(incidents["status"].isin(list(status_map)).to_numpy())
    task_key = {(int(i), a): k for k, (i, a) in enumerate(zip(tasks["incident"], tasks["agency_code"],
                                                              strict=True))}
    for i in open_idx:
        code = incidents.at[i, "category_code"]
        plan = ctx.catalog.categories[code].plan
        if not plan:
            continue
        agency, unit_type = plan[0]["agency"], plan[0]["unit_type"]
        free = np.flatnonzero(((units["unit_type"] == unit_type) & (units["status"] == "available")).to_numpy())
        if len(free) == 0:
            continue
        ixy = np.array([incidents.at[i, "x"], incidents.at[i, "y"]])
        uxy = np.vstack(units["xy"].to_numpy()[free])
        d = np.hypot(*(uxy - ixy).T)
        u = int(free[np.argmin(d)])
        st = status_map[incidents.at[i, "status"]]
        units.at[u, "status"] = st
        units.at[u, "incident"] = int(i)
        if st == "on_scene":
            units.at[u, "xy"] = tuple(ixy + rng.normal(0, 8, 2))
        elif st == "en_route":
            units.at[u, "xy"] = tuple(uxy[np.argmin(d)] + (ixy - uxy[np.argmin(d)]) * rng.uniform(0.3, 0.8))
        rows.append({"incident": int(i), "unit": u, "task": task_key.get((int(i), agency), -1),
                     "eta_s": round(float(d.min()) / (30 / 3.6), 1), "assigned_at": incidents.at[i, "dispatched_at"],
                     "actor": operator[i]})
    cols = ["incident", "unit", "task", "eta_s", "assigned_at", "actor"]
    return units, pd.DataFrame(rows, columns=cols)


def history_window(until: datetime, years: float) -> tuple[datetime, datetime]:
    """[start, end) of the history; ``until`` is the end instant (UTC)."""
    return until - timedelta(days=365.25 * years), until
