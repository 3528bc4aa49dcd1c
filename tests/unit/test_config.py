from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
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


def test_base_url_and_analytics_limits_from_the_environment():
    s = from_env({"PETA112_BASE_URL": "https://112.kota.go.id/peta/", "PETA112_ANALYTICS_TIMEOUT_S": "2.5",
                  "PETA112_ANALYTICS_CONCURRENCY": "3"})
    assert s.public_url == "https://112.kota.go.id/peta"
    assert (s.analytics_timeout_s, s.analytics_concurrency) == (2.5, 3)
    d = from_env({})
    assert d.base_url is None and d.public_url == "http://127.0.0.1:5000"
    assert (d.analytics_timeout_s, d.analytics_concurrency) == (10.0, 4)


@pytest.mark.parametrize("env", [{"PETA112_BASE_URL": "evil.example"}, {"PETA112_BASE_URL": "ftp://x.example"},
                                 {"PETA112_BASE_URL": "https://x.example/?a=b"},
                                 {"PETA112_BASE_URL": "https://x.example/a\r\nb"},
                                 {"PETA112_ANALYTICS_TIMEOUT_S": "nan"}, {"PETA112_ANALYTICS_TIMEOUT_S": "0"},
                                 {"PETA112_ANALYTICS_CONCURRENCY": "two"}])
def test_bad_settings_are_one_readable_line(env):
    with pytest.raises(ValueError, match="PETA112_"):
        from_env(env)
    result = CliRunner().invoke(cli, ["db", "status"], env=env)
    assert result.exit_code != 0
    assert result.output.strip().startswith("error: PETA112_") and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
