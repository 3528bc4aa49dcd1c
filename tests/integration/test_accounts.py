"""Accounts: lockout, equal-time sign-in, re-hashing, disabling, passwords, token chains, the admin API and CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app.services import auth, passwords
from tests import users
from tests.scratch import scratch_database

GOOD = "Gedung Sate jam 4 pagi"
IN_EAST = {"category": "banjir", "lat": -6.978, "lon": 110.431}


@pytest.fixture()
def city(tiny_city):
    return tiny_city


def login(client, username: str, password: str | None = None):
    return client.post("/login", json={"username": username, "password": password or users.password(username)})


def events(conn, username: str) -> list[str]:
    return conn.execute(text("SELECT kind FROM account_events WHERE username = :u ORDER BY id"),
                        {"u": username}).scalars().all()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- sign-in -------------------------------------------------------------------------------------
def test_lockout_backs_off_and_spares_a_second_user_behind_the_same_address(anon, city):
    """A call centre is one NAT: locking one account must not lock out the desk next to it."""
    codes = [login(anon, "t_operator", "wrong password").status_code for _ in range(auth.LOCK_AFTER)]
    assert codes == [401] * auth.LOCK_AFTER
    locked = login(anon, "t_operator")  # even the right password, while locked
    assert locked.status_code == 429 and locked.get_json()["field"] == "username"
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert login(anon, "t_dispatcher").status_code == 200  # same address, another user: in
    assert events(city, "t_operator") == ["login_failed"] * 4 + ["login_failed", "locked", "login_refused_locked"]
    # After the lock ends, the next failure locks for twice as long (2 minutes).
    city.execute(text("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 't_operator'"))
    assert login(anon, "t_operator", "wrong again").status_code == 401
    wait = city.execute(text("SELECT locked_until - now() FROM users WHERE username = 't_operator'")).scalar_one()
    assert wait.total_seconds() == 120
    city.execute(text("UPDATE users SET locked_until = NULL WHERE username = 't_operator'"))
    assert login(anon, "t_operator").status_code == 200
    assert city.execute(text("SELECT failed_logins FROM users WHERE username = 't_operator'")).scalar_one() == 0


def test_the_login_form_says_the_account_is_locked(anon, city):
    city.execute(text("UPDATE users SET locked_until = now() + interval '90 seconds' WHERE username = 't_operator'"))
    res = anon.post("/login", data={"username": "t_operator", "password": users.password("t_operator")})
    assert res.status_code == 429 and "dikunci" in res.get_data(as_text=True)


def test_the_per_address_limit_counts_failures_only(make_app, city):
    c = make_app(rate_limit_login=3).test_client()
    assert [login(c, "t_dispatcher").status_code for _ in range(5)] == [200] * 5  # a shift change: all in
    assert [login(c, f"nobody{i}", "x").status_code for i in range(3)] == [401] * 3  # password spraying
    res = login(c, "t_official")
    assert res.status_code == 429 and res.mimetype == "application/problem+json"


def test_unknown_and_disabled_users_cost_a_hash_check_too(anon, city, monkeypatch):
    """Equal work for unknown names: a dummy argon2 verification (timing itself is measured, not asserted)."""
    checked: list[str] = []
    real = passwords.verify

    def spy(stored_hash: str, password: str) -> bool:
        checked.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", spy)
    assert login(anon, "no_such_user", "whatever-password").status_code == 401
    assert checked == [passwords.dummy_hash()] and checked[0].startswith("$argon2id$")
    city.execute(text("UPDATE users SET active = false WHERE username = 't_official'"))
    assert login(anon, "t_official").status_code == 401
    assert checked == [passwords.dummy_hash()] * 2
    assert login(anon, "t_dispatcher", "wrong password").status_code == 401
    assert len(checked) == 3 and checked[2] != passwords.dummy_hash()


@pytest.mark.parametrize("body,status", [
    ({"username": "\ud800", "password": "\ud800"}, 422),  # lone surrogates too
    (1.5, 401),
    (["t_admin", "x"], 401),
    ({"username": "t_admin", "password": "x\u0000y"}, 422),  # NUL is refused at the door (app/web/hygiene.py)
    ({"username": ["t_admin"], "password": {"a": 1}}, 401),
    ({"username": "t_admin", "password": "p" * 100_000}, 401),
])
def test_hostile_sign_in_input_is_a_4xx_problem(anon, city, body, status):
    import json

    res = anon.post("/login", data=json.dumps(body), content_type="application/json")
    assert res.status_code == status and res.mimetype == "application/problem+json"


def test_hostile_token_names_are_refused(client, city):
    import json

    res = client.post("/api/v1/tokens", data=json.dumps({"name": "a\ud800"}), content_type="application/json")
    assert res.status_code == 422 and res.get_json()["field"] == "name"


def test_an_old_werkzeug_hash_signs_in_and_becomes_argon2(anon, city):
    city.execute(text("UPDATE users SET password_hash = :h WHERE username = 't_official'"),
                 {"h": generate_password_hash(users.password("t_official"))})
    assert login(anon, "t_official").status_code == 200
    stored = city.execute(text("SELECT password_hash FROM users WHERE username = 't_official'")).scalar_one()
    assert stored.startswith("$argon2id$") and passwords.verify(stored, users.password("t_official"))


# -- ending access -------------------------------------------------------------------------------
def _session_and_token(app, username: str = "t_dispatcher"):
    browser = app.test_client()
    csrf = login(browser, username).get_json()["csrf_token"]
    res = browser.post("/api/v1/tokens", json={"name": "phone"}, headers={"X-CSRF-Token": csrf})
    assert res.status_code == 201
    return browser, res.get_json()["token"]


@pytest.mark.parametrize("change", [{"active": False}, {"password": GOOD}])
def test_disabling_or_a_new_password_ends_every_session_and_token(app, client, anon, city, change):
    browser, token = _session_and_token(app)
    res = client.patch("/api/v1/users/t_dispatcher", json=change)
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["sessions_ended"] == 1 and res.get_json()["tokens_revoked"] == 2  # phone + fixture token
    assert browser.get("/api/v1/me").status_code == 401
    assert anon.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert anon.get("/api/v1/me", headers=users.auth("dispatcher")).status_code == 401
    assert login(anon, "t_dispatcher").status_code == 401  # disabled, or the old password
    kind = "disabled" if "active" in change else "password_changed"
    assert events(city, "t_dispatcher")[-2:] == [kind, "login_failed"]
    if "active" in change:
        assert client.patch("/api/v1/users/t_dispatcher", json={"active": True}).status_code == 200
        assert login(anon, "t_dispatcher").status_code == 200
        assert anon.get("/api/v1/me", headers=bearer(token)).status_code == 401  # revoked stays revoked
    else:
        assert login(anon, "t_dispatcher", GOOD).status_code == 200


def test_changing_your_own_password(app, anon, city):
    csrf = login(anon, "t_operator").get_json()["csrf_token"]
    h = {"X-CSRF-Token": csrf}
    wrong = anon.post("/api/v1/me/password", json={"old_password": "nope", "new_password": GOOD}, headers=h)
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "old_password"
    weak = anon.post("/api/v1/me/password", json={"old_password": users.password("t_operator"),
                                                  "new_password": "password123"}, headers=h)
    assert weak.status_code == 422 and weak.get_json()["field"] == "new_password"
    ok = anon.post("/api/v1/me/password", json={"old_password": users.password("t_operator"),
                                                "new_password": GOOD}, headers=h)
    assert ok.status_code == 200 and ok.get_json()["sessions_ended"] == 1
    assert "peta112_session=;" in ok.headers["Set-Cookie"]
    assert anon.get("/api/v1/me").status_code == 401
    assert login(anon, "t_operator").status_code == 401 and login(anon, "t_operator", GOOD).status_code == 200


def test_the_last_admin_cannot_be_disabled_or_demoted(client, city):
    res = client.patch("/api/v1/users/t_admin", json={"active": False})
    assert res.status_code == 409 and res.get_json()["field"] == "active"
    res = client.patch("/api/v1/users/t_admin", json={"role": "official"})
    assert res.status_code == 409 and res.get_json()["field"] == "role"
    assert client.patch("/api/v1/users/t_official", json={"role": "admin"}).status_code == 200
    assert client.patch("/api/v1/users/t_admin", json={"role": "official"}).status_code == 200  # another admin now


@pytest.mark.parametrize("body,status,field", [
    ({"active": "no"}, 422, "active"),
    ({"password": "password1234"}, 422, "password"),
    ({"password": "t_official-long-one"}, 422, "password"),
    ({"role": "superuser"}, 422, "role"),
    ({"role": "agency"}, 422, "agency"),
    ({"role": "agency", "agency": "NOPE"}, 422, "agency"),
    ({"is_admin": True}, 422, "is_admin"),
    ([1, 2], 422, "body"),
])
def test_bad_account_changes_are_refused_and_change_nothing(client, city, body, status, field):
    res = client.patch("/api/v1/users/t_official", json=body)
    assert res.status_code == status and res.get_json()["field"] == field
    assert res.mimetype == "application/problem+json"
    assert city.execute(text("SELECT role FROM users WHERE username = 't_official'")).scalar_one() == "official"
    assert client.patch("/api/v1/users/nobody", json={"active": False}).status_code == 404


def test_admin_changes_a_role(client, anon, city):
    res = client.patch("/api/v1/users/t_official", json={"role": "agency", "agency": "DAMKAR"})
    assert res.status_code == 200 and res.get_json()["user"]["role"] == "agency"
    assert anon.get("/api/v1/me", headers=users.auth("t_official")).get_json()["user"]["agency"] == "DAMKAR"


def test_users_and_tokens_lists(client, anon, city):
    listed = client.get("/api/v1/users").get_json()["users"]
    names = {u["username"]: u for u in listed}
    assert set(users.USERS) <= set(names) and not any("password_hash" in u for u in listed)
    assert names["t_damkar"]["agency"] == "DAMKAR" and names["t_damkar"]["demo"] is False
    assert anon.get("/api/v1/users", headers=users.auth("dispatcher")).status_code == 403
    assert anon.patch("/api/v1/users/t_official", json={"active": False},
                      headers=users.auth("dispatcher")).status_code == 403
    own = anon.get("/api/v1/tokens", headers=users.auth("dispatcher")).get_json()["tokens"]
    assert {t["username"] for t in own} == {"t_dispatcher"} and "token_sha256" not in own[0]
    all_tokens = client.get("/api/v1/tokens").get_json()["tokens"]
    assert {t["username"] for t in all_tokens} >= set(users.USERS)
    one = client.get("/api/v1/tokens?user=t_bpbd").get_json()["tokens"]
    assert {t["username"] for t in one} == {"t_bpbd"}
    # someone else's token: not yours to revoke (and not even shown to exist)
    bpbd_id = one[0]["id"]
    assert anon.delete(f"/api/v1/tokens/{bpbd_id}", headers=users.auth("dispatcher")).status_code == 404
    assert client.delete(f"/api/v1/tokens/{bpbd_id}").get_json() == {"revoked": 1}
    assert anon.get("/api/v1/me", headers=users.auth("bpbd")).status_code == 401


# -- token chains --------------------------------------------------------------------------------
def test_a_token_made_with_a_token_dies_with_it(app, anon, city):
    _, parent = _session_and_token(app)
    child = anon.post("/api/v1/tokens", json={"name": "child", "days": 3650}, headers=bearer(parent)).get_json()
    grandchild = anon.post("/api/v1/tokens", json={"name": "grandchild"}, headers=bearer(child["token"])).get_json()
    rows = dict(city.execute(text("SELECT name, parent_id FROM api_tokens WHERE name IN ('phone', 'child', "
                                  "'grandchild')")).all())
    assert rows["child"] is not None and rows["grandchild"] == child["id"]
    assert anon.get("/api/v1/me", headers=bearer(grandchild["token"])).status_code == 200
    revoked = anon.delete(f"/api/v1/tokens/{rows['child']}", headers=bearer(parent))
    assert revoked.get_json() == {"revoked": 3}  # the parent and both descendants
    for tok in (parent, child["token"], grandchild["token"]):
        assert anon.get("/api/v1/me", headers=bearer(tok)).status_code == 401


def test_a_token_cannot_outlive_its_parent(app, anon, city):
    _, parent = _session_and_token(app)
    city.execute(text("UPDATE api_tokens SET expires_at = now() + interval '2 days' WHERE name = 'phone'"))
    child = anon.post("/api/v1/tokens", json={"name": "child", "days": 3650}, headers=bearer(parent))
    assert child.status_code == 201
    expiry = dict(city.execute(text("SELECT name, expires_at FROM api_tokens WHERE name IN ('phone', 'child')")).all())
    assert expiry["child"] == expiry["phone"]
    city.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                      "WHERE name IN ('phone', 'child')"))
    assert anon.get("/api/v1/me", headers=bearer(child.get_json()["token"])).status_code == 401


def test_revoking_by_prefix_revokes_the_children_too(app, anon, session, city):
    from app.services import tokens

    _, parent = _session_and_token(app)
    child = anon.post("/api/v1/tokens", json={"name": "child"}, headers=bearer(parent)).get_json()["token"]
    assert tokens.revoke(session, parent[:12]) == 2
    assert anon.get("/api/v1/me", headers=bearer(child)).status_code == 401


# -- demo logins ---------------------------------------------------------------------------------
def test_demo_logins_are_flagged_everywhere(app, anon, session, city):
    from app.services import accounts

    accounts.add_user(session, "demo_ops", "dispatcher", "demo_ops-112", demo=True)  # skips the policy
    csrf = login(anon, "demo_ops", "demo_ops-112").get_json()["csrf_token"]
    assert csrf and anon.get("/api/v1/me").get_json()["user"]["demo"] is True
    page = anon.get("/map").get_data(as_text=True)
    assert 'id="demo-badge"' in page and "AKUN DEMO" in page
    other = app.test_client()
    login(other, "t_dispatcher")
    assert 'id="demo-badge"' not in other.get("/map").get_data(as_text=True)


# -- the CLI -------------------------------------------------------------------------------------
def test_account_commands(cluster):
    with scratch_database(cluster, "peta112_accounts") as url:
        env = {**os.environ, "DATABASE_URL": url}

        def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "app.cli_main", *args], capture_output=True, text=True,
                                  env=env, timeout=120, input=stdin)

        def one_line_error(res: subprocess.CompletedProcess[str], text_: str) -> None:
            assert res.returncode == 1, res
            assert res.stderr.strip().splitlines() == [f"error: {text_}"]

        one_line_error(run("user", "add", "siti", "--role", "official", "--password", "siti12345678"),
                       "password: password must not contain the username")
        one_line_error(run("user", "add", "siti", "--role", "official", "--password", "bismillah2024"),
                       "password: password is too common (it is on a list of passwords attackers try first)")
        assert run("user", "add", "siti", "--role", "admin", "--password", GOOD).returncode == 0
        generated = run("user", "add", "budi", "--role", "dispatcher")
        assert generated.returncode == 0 and "; password: " in generated.stdout
        tok = run("token", "create", "--user", "siti", "--name", "avl")
        assert tok.returncode == 0 and tok.stdout.startswith("p112_")
        listed = run("token", "list", "--user", "siti")
        assert listed.returncode == 0 and tok.stdout[:12] in listed.stdout and "active" in listed.stdout
        passwd = run("user", "passwd", "siti", stdin=f"{GOOD}!\n{GOOD}!\n")
        assert passwd.returncode == 0 and "1 token(s) revoked" in passwd.stdout
        assert "revoked" in run("token", "list").stdout
        one_line_error(run("user", "passwd", "siti", "--password", "short"),
                       "password: password must have at least 12 characters")
        one_line_error(run("user", "disable", "nobody"), "username: no user 'nobody'")
        one_line_error(run("user", "disable", "siti"), "active: this is the last active admin; enable another "
                                                       "admin first")
        assert run("user", "disable", "budi").returncode == 0
        users_out = run("user", "list")
        assert users_out.returncode == 0
        assert [ln.split()[:2] + [ln.split()[3]] for ln in users_out.stdout.splitlines()[1:]] == [
            ["budi", "dispatcher", "disabled"], ["siti", "admin", "active"]]
        assert run("user", "enable", "budi").returncode == 0
        new_tok = run("token", "create", "--user", "budi").stdout.strip()
        token_id = run("token", "list", "--user", "budi").stdout.splitlines()[1].split()[0]
        assert run("token", "revoke", token_id).stdout.strip() == "revoked 1 token(s)"
        one_line_error(run("token", "revoke", new_tok[:12]), f"no active token with id or prefix {new_tok[:12]!r}")
        demo = run("user", "demo")
        assert demo.returncode == 0 and "DEMO" in demo.stdout and "WARNING" in demo.stderr
        assert "user disable" in demo.stderr and "dispatcher-112" in demo.stdout
        assert "DEMO" in run("user", "list").stdout
