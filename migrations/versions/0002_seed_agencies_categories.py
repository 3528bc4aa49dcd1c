"""Seed the agencies (OPD) and the 112 incident categories with their routing rules.

These are data, editable afterwards (an admin may add a category or change a
target time); the migration only gives every city the same sensible start.
Targets are seconds from call to first arrival on scene.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AGENCIES = [
    # code, name (id), name (en), kind, phone, color
    ("DAMKAR", "Dinas Pemadam Kebakaran dan Penyelamatan", "Fire and Rescue Service", "responder", "113", "#d7301f"),
    ("DINKES", "Dinas Kesehatan / PSC 119", "Health Service / PSC 119 Ambulance", "responder", "119", "#2b8cbe"),
    ("POLRI", "Kepolisian (Polres/Polsek)", "Police", "responder", "110", "#2c3e75"),
    ("BPBD", "Badan Penanggulangan Bencana Daerah", "Disaster Management Agency", "responder", None, "#f28e2b"),
    ("PU", "Dinas Pekerjaan Umum / Perkim", "Public Works", "service", None, "#7f6a3b"),
    ("DLH", "Dinas Lingkungan Hidup", "Environment Agency", "service", None, "#4daf4a"),
    ("SATPOLPP", "Satuan Polisi Pamong Praja", "Municipal Public Order Police", "service", None, "#6a51a3"),
    ("DINSOS", "Dinas Sosial", "Social Affairs Service", "service", None, "#c51b8a"),
    ("PMI", "Palang Merah Indonesia", "Indonesian Red Cross (blood)", "service", None, "#e41a1c"),
    ("BNN", "Badan Narkotika Nasional", "National Narcotics Board", "service", None, "#525252"),
    ("DISHUB", "Dinas Perhubungan", "Transport Agency", "service", None, "#1b9e77"),
    ("PLN", "PLN (listrik)", "State Electricity Company", "utility", "123", "#ffd92f"),
]

# code, name_id, name_en, priority (1 = most urgent), target seconds, emergency,
# agencies [(code, role)], response plan [{"unit_type", "count", "agency"}], color
CATEGORIES = [
    ("kebakaran", "Kebakaran", "Fire", 1, 8 * 60, True,
     [("DAMKAR", "primary"), ("POLRI", "support"), ("PLN", "support")],
     [{"agency": "DAMKAR", "unit_type": "fire_engine", "count": 2},
      {"agency": "DINKES", "unit_type": "ambulance", "count": 1}], "#d7301f"),
    ("banjir", "Banjir", "Flood", 2, 30 * 60, True,
     [("BPBD", "primary")], [{"agency": "BPBD", "unit_type": "rescue_boat", "count": 1}], "#3182bd"),
    ("rob", "Banjir Rob", "Tidal flood (rob)", 2, 30 * 60, True,
     [("BPBD", "primary")], [{"agency": "BPBD", "unit_type": "rescue_boat", "count": 1}], "#08519c"),
    ("tanah_longsor", "Tanah Longsor", "Landslide", 1, 20 * 60, True,
     [("BPBD", "primary"), ("DAMKAR", "support")],
     [{"agency": "BPBD", "unit_type": "rescue_truck", "count": 1}], "#8c510a"),
    ("kecelakaan", "Kecelakaan Lalu Lintas", "Traffic accident", 1, 10 * 60, True,
     [("POLRI", "primary"), ("DINKES", "primary"), ("DISHUB", "support")],
     [{"agency": "POLRI", "unit_type": "patrol_car", "count": 1},
      {"agency": "DINKES", "unit_type": "ambulance", "count": 1}], "#e6550d"),
    ("ambulans", "Permintaan Ambulans", "Ambulance request", 1, 8 * 60, True,
     [("DINKES", "primary")], [{"agency": "DINKES", "unit_type": "ambulance", "count": 1}], "#2b8cbe"),
    ("mobil_jenazah", "Mobil Jenazah", "Hearse request", 4, 120 * 60, False,
     [("DINKES", "primary")], [{"agency": "DINKES", "unit_type": "hearse", "count": 1}], "#636363"),
    ("pohon_tumbang", "Pohon Tumbang", "Fallen tree", 2, 45 * 60, True,
     [("BPBD", "primary"), ("DLH", "support"), ("PU", "support")],
     [{"agency": "BPBD", "unit_type": "rescue_truck", "count": 1}], "#31a354"),
    ("pju_mati", "Lampu Jalan (PJU) Mati", "Street light out", 5, 3 * 24 * 3600, False,
     [("PU", "primary")], [], "#fec44f"),
    ("kriminal", "Kriminalitas / Kerusuhan", "Crime / riot", 1, 10 * 60, True,
     [("POLRI", "primary")], [{"agency": "POLRI", "unit_type": "patrol_car", "count": 2}], "#54278f"),
    ("narkoba", "Narkoba", "Drugs", 3, 60 * 60, False,
     [("POLRI", "primary"), ("BNN", "support")], [{"agency": "POLRI", "unit_type": "patrol_car", "count": 1}], "#756bb1"),
    ("sarang_tawon", "Sarang Tawon", "Wasp nest", 3, 60 * 60, False,
     [("DAMKAR", "primary")], [{"agency": "DAMKAR", "unit_type": "rescue_unit", "count": 1}], "#fd8d3c"),
    ("gepeng", "Gelandangan / Pengemis / Pengamen", "Homeless, beggars, buskers", 4, 4 * 3600, False,
     [("SATPOLPP", "primary"), ("DINSOS", "support")], [], "#c51b8a"),
    ("perjudian", "Perjudian / Miras", "Gambling / illegal liquor", 3, 2 * 3600, False,
     [("POLRI", "primary"), ("SATPOLPP", "support")], [{"agency": "POLRI", "unit_type": "patrol_car", "count": 1}], "#88419d"),
    ("gangguan_ketertiban", "Gangguan Ketertiban / Prostitusi", "Public order / prostitution", 3, 2 * 3600, False,
     [("SATPOLPP", "primary"), ("POLRI", "support")], [], "#8c6bb1"),
    ("lingkungan", "Gangguan Lingkungan", "Environmental nuisance", 4, 24 * 3600, False,
     [("DLH", "primary")], [], "#74c476"),
    ("permintaan_darah", "Permintaan Darah", "Blood donation request", 2, 2 * 3600, False,
     [("PMI", "primary")], [], "#e41a1c"),
    ("info_kesehatan", "Informasi Kesehatan", "Health information", 5, 24 * 3600, False,
     [("DINKES", "primary")], [], "#9ecae1"),
    ("prank", "Telepon Iseng / Prank", "Prank / ghost call", 5, 24 * 3600, False, [], [], "#bdbdbd"),
]


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text("INSERT INTO agencies (code, name, name_en, kind, phone, color) "
                "VALUES (:c, :n, :e, :k, :p, :col)"),
        [dict(c=a[0], n=a[1], e=a[2], k=a[3], p=a[4], col=a[5]) for a in AGENCIES],
    )
    conn.execute(
        sa.text("INSERT INTO incident_categories (code, name_id, name_en, priority, "
                "target_response_s, is_emergency, response_plan, color) "
                "VALUES (:c, :n, :e, :p, :t, :em, CAST(:plan AS jsonb), :col)"),
        [dict(c=c[0], n=c[1], e=c[2], p=c[3], t=c[4], em=c[5], plan=json.dumps(c[7]), col=c[8])
         for c in CATEGORIES],
    )
    conn.execute(
        sa.text("INSERT INTO category_agencies (category_code, agency_code, role) VALUES (:c, :a, :r)"),
        [dict(c=c[0], a=a, r=r) for c in CATEGORIES for a, r in c[6]],
    )


def downgrade() -> None:
    op.execute("DELETE FROM category_agencies; DELETE FROM incident_categories; DELETE FROM agencies;")
