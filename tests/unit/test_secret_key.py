"""The secret key: generated once (0600) under the var dir and reused; published or weak keys refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app import secret_key
from app.config import Settings


def test_first_start_generates_a_private_key_and_later_starts_reuse_it(tmp_path: Path):
    settings = Settings(var_dir=tmp_path / "var")
    key = secret_key.resolve(settings)
    path = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 43 and path.read_text().strip() == key
    assert secret_key.resolve(settings) == key
    assert secret_key.resolve(Settings(var_dir=tmp_path / "other")) != key
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]  # no temporary file left


def test_a_key_file_others_can_read_is_refused(tmp_path: Path):
    settings = Settings(var_dir=tmp_path)
    secret_key.resolve(settings)
    (tmp_path / "secret_key").chmod(0o644)
    with pytest.raises(secret_key.SecretKeyError, match="chmod 600"):
        secret_key.resolve(settings)


@pytest.mark.parametrize("key,message", [
    ("dev-only-change-me", "published default"),
    ("  Dev-Only-Change-Me ", "published default"),
    ("changeme", "published default"),
    ("0123456789abcdef", "too weak"),
    ("x" * 64, "too weak"),
])
def test_published_and_weak_keys_are_refused(tmp_path: Path, key: str, message: str):
    with pytest.raises(secret_key.SecretKeyError, match=message):
        secret_key.resolve(Settings(var_dir=tmp_path, secret_key=key))
    assert not (tmp_path / "secret_key").exists()


def test_a_weak_key_in_the_file_is_refused_too(tmp_path: Path):
    path = tmp_path / "secret_key"
    path.write_text("dev-only-change-me\n")
    path.chmod(0o600)
    with pytest.raises(secret_key.SecretKeyError, match=str(path)):
        secret_key.resolve(Settings(var_dir=tmp_path))


def test_a_random_key_from_the_environment_is_used_as_given(tmp_path: Path):
    key = "k8Xr2-pQ7vN0zL4yT6wB1cH9mF3sD5gJ"
    assert secret_key.resolve(Settings(var_dir=tmp_path, secret_key=key)) == key
