from pathlib import Path

from app.config import from_env
from app.db.engine import normalize_url


def test_defaults_use_embedded_cluster_under_var():
    s = from_env({})
    assert s.embedded
    assert s.database_url is None
    assert s.var_dir.name == "var"
    assert s.db_name == "peta112"


def test_database_url_switches_off_embedded_cluster(tmp_path: Path):
    s = from_env({"DATABASE_URL": "postgres://u:p@db.example:5432/x",
                  "PETA112_VAR_DIR": str(tmp_path), "PETA112_UTM_EPSG": "32750"})
    assert not s.embedded
    assert s.var_dir == tmp_path.resolve()
    assert s.utm_epsg == 32750


def test_normalize_url_accepts_libpq_styles():
    assert normalize_url("postgres://a@h/db") == "postgresql+psycopg://a@h/db"
    assert normalize_url("postgresql://a@h/db") == "postgresql+psycopg://a@h/db"
    assert normalize_url("postgresql+psycopg://a@h/db") == "postgresql+psycopg://a@h/db"
