"""The rollup's numpy path computes what PostgreSQL computes: percentile_cont's interpolation,
and local hours only where the city's zone keeps one offset."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from app.services.analytics.performance_cells import percentile_cont
from app.services.analytics.rollup import micros
from app.services.analytics.trends_cells import fixed_offset_us


def test_percentile_cont_interpolates_between_ranks_as_postgresql_does():
    assert percentile_cont(np.array([])) is None
    assert percentile_cont(np.array([7.0])) == [7.0, 7.0]
    # n = 4: the median sits halfway between the 2nd and 3rd values; p90 at 0.7 of the way from the 3rd to the 4th
    assert percentile_cont(np.array([40.0, 10.0, 30.0, 20.0])) == [25.0, 30.0 + (40.0 - 30.0) * (0.9 * 3 - 2)]
    values = np.random.default_rng(16).lognormal(5, 1, 10_001)
    np.testing.assert_allclose(percentile_cont(values), np.percentile(values, [50, 90]), rtol=1e-12)


def test_indonesian_zones_keep_one_offset_and_daylight_saving_falls_back_to_sql():
    since, until = datetime(2016, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    assert fixed_offset_us(ZoneInfo("Asia/Jakarta"), since, until) == 7 * 3_600_000_000
    assert fixed_offset_us(ZoneInfo("Asia/Makassar"), since, until) == 8 * 3_600_000_000
    assert fixed_offset_us(ZoneInfo("Asia/Jayapura"), since, until) == 9 * 3_600_000_000
    assert fixed_offset_us(ZoneInfo("Europe/Helsinki"), since, until) is None  # the raw queries answer


def test_micros_is_exact_where_a_float_would_round():
    at = datetime(2026, 11, 29, 0, 30, 15, 123457, tzinfo=UTC)
    assert micros(at) == 1_795_912_215_123_457
    assert micros(at) % 10 == 7
