"""Password policy and hashing, without a database."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from app.services import passwords
from app.services.errors import InvalidInput


@pytest.mark.parametrize("password,why", [
    ("12345678", "at least 12"),
    ("            ", "only spaces"),
    ("", "empty"),
    ("password1234", "too common"),
    ("123456789012", "sequence"),
    ("Bismillah123!", "too common"),
    ("!!Indonesia2024", "too common"),
    ("sayangku12345", "too common"),
    ("qwertyuiop123", "too common"),
    ("kata sandi 123", "too common"),
    ("budi.santoso-2026", "username"),
    ("aaaaaaaaaaaaaaaa", "repeat"),
    ("abababababababab", "repeat"),
    ("abcdefghijklmnop", "sequence"),
    ("tab\there-is-long", "control"),
    ("x" * 200 + "abcdefghijklmnopqrstuvwxyz" * 3, "at most"),
])
def test_weak_passwords_are_refused(password, why):
    with pytest.raises(InvalidInput, match=why) as err:
        passwords.check_policy(password, "budi.santoso")
    assert err.value.field == "password"


@pytest.mark.parametrize("password", ["kuda-lumping biru 77", "Gedung Sate jam 4 pagi", "x7#Tq9!mZ2$w"])
def test_good_passwords_pass(password):
    passwords.check_policy(password, "budi.santoso")


def test_generated_passwords_pass_the_policy():
    for _ in range(20):
        passwords.check_policy(passwords.generate(), "admin")


def test_the_common_list_has_zxcvbn_and_our_indonesian_words():
    common = passwords.common_passwords()
    assert len(common) > 30_000
    assert {"indonesia", "bismillah", "sayang", "password", "rahasia", "persija"} <= common


def test_argon2id_hashes_and_old_werkzeug_hashes_verify():
    new = passwords.hash_password("Gedung Sate jam 4 pagi")
    assert new.startswith("$argon2id$") and not passwords.needs_rehash(new)
    assert passwords.verify(new, "Gedung Sate jam 4 pagi") and not passwords.verify(new, "gedung sate jam 4 pagi")
    old = generate_password_hash("Gedung Sate jam 4 pagi")
    assert old.startswith("scrypt:") and passwords.needs_rehash(old)
    assert passwords.verify(old, "Gedung Sate jam 4 pagi") and not passwords.verify(old, "salah")
    assert not passwords.verify("not a hash", "anything")
    assert not passwords.verify(passwords.dummy_hash(), "")
