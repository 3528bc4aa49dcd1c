"""The UTM zone and the time zone picked for a city from its position (app/city/profile.py)."""

import pytest

from app.city.profile import pick, timezone_for, utm_epsg_for

CITIES = [  # name, lon, lat, UTM EPSG, time zone
    ("Banda Aceh", 95.32, 5.55, 32646, "Asia/Jakarta"),
    ("Medan", 98.67, 3.59, 32647, "Asia/Jakarta"),
    ("Jakarta", 106.85, -6.21, 32748, "Asia/Jakarta"),
    ("Semarang", 110.42, -6.97, 32749, "Asia/Jakarta"),
    ("Banyuwangi", 114.37, -8.22, 32750, "Asia/Jakarta"),
    ("Pontianak", 109.33, -0.03, 32749, "Asia/Jakarta"),
    ("Pontianak north", 109.33, 0.03, 32649, "Asia/Jakarta"),
    ("Palangka Raya", 113.92, -2.21, 32749, "Asia/Jakarta"),
    ("Banjarmasin", 114.59, -3.32, 32750, "Asia/Makassar"),
    ("Denpasar", 115.22, -8.65, 32750, "Asia/Makassar"),
    ("Balikpapan", 116.83, -1.27, 32750, "Asia/Makassar"),
    ("Makassar", 119.42, -5.14, 32750, "Asia/Makassar"),
    ("Kupang", 123.60, -10.17, 32751, "Asia/Makassar"),
    ("Manado", 124.84, 1.47, 32651, "Asia/Makassar"),
    ("Talaud", 126.80, 4.00, 32652, "Asia/Makassar"),
    ("Sanana (Sula)", 125.98, -2.06, 32751, "Asia/Jayapura"),
    ("Ternate", 127.38, 0.79, 32652, "Asia/Jayapura"),
    ("Ambon", 128.18, -3.70, 32752, "Asia/Jayapura"),
    ("Jayapura", 140.72, -2.53, 32754, "Asia/Jayapura"),
    ("Merauke", 140.40, -8.49, 32754, "Asia/Jayapura"),
]


@pytest.mark.parametrize("name,lon,lat,epsg,tz", CITIES)
def test_zone_and_time_zone_of_indonesian_cities(name, lon, lat, epsg, tz):
    assert utm_epsg_for(lon, lat) == epsg, name
    assert timezone_for(lon, lat) == tz, name


def test_given_values_override_and_are_checked():
    p = pick((116.80, -1.28, 116.86, -1.25), "Balikpapan", utm_epsg=32749)
    assert (p.utm_epsg, p.utm_epsg_auto, p.timezone) == (32749, 32750, "Asia/Makassar")
    assert p.zone_label == "UTM 49S (EPSG:32749)" and p.timezone_label == "Asia/Makassar (WITA)"
    with pytest.raises(ValueError, match="not a WGS 84 / UTM zone"):
        pick((116.80, -1.28, 116.86, -1.25), "x", utm_epsg=4326)
    with pytest.raises(ValueError, match="not an Indonesian one"):
        pick((116.80, -1.28, 116.86, -1.25), "x", timezone="UTC")
