"""Sign-in, throttling, CSRF, CSP, escaping, password hashing, production settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db


def test_pages_require_sign_in(client):
    r = client.get("/customers/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_sign_in_and_out(client, users):
    r = client.post("/login/", {"username": "sales1", "password": "pw-Guanxi-123"})
    assert r.status_code == 302
    assert client.get("/customers/").status_code == 200
    client.post("/logout/")
    assert client.get("/customers/").status_code == 302


def test_login_throttled_after_repeated_failures(client, users, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        r = client.post("/login/", {"username": "sales1", "password": "wrong"})
        assert r.status_code == 200
    r = client.post("/login/", {"username": "sales1", "password": "pw-Guanxi-123"})
    assert r.status_code == 429
    assert b"Too many failed sign-ins" in r.content
    # Another user from another address is not affected.
    other = Client(REMOTE_ADDR="10.9.9.9")
    r = other.post("/login/", {"username": "sales2", "password": "pw-Guanxi-123"})
    assert r.status_code == 302


def test_csrf_enforced_on_page_forms(users):
    c = Client(enforce_csrf_checks=True)
    c.force_login(users["sales1"])
    r = c.post("/customers/new/", {"kind": "person", "name": "X"})
    assert r.status_code == 403


def test_content_security_policy_and_headers(client, users):
    client.force_login(users["sales1"])
    r = client.get("/customers/")
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_user_input_is_escaped(client, actors, users):
    c = customer(actors["sales1"], "<script>alert(1)</script>", notes="<img src=x onerror=1>")
    client.force_login(users["sales1"])
    body = client.get(f"/customers/{c.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_passwords_hashed_with_argon2(settings):
    from django.contrib.auth.hashers import identify_hasher, make_password

    from guanxi import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert identify_hasher(make_password("secret-pass")).algorithm == "argon2"


def test_production_defaults_are_safe():
    """Without GUANXI_DEV: DEBUG off, secure cookies, HSTS, HTTPS redirect, key required."""
    code = ("import json, guanxi.settings as s; print(json.dumps({k: getattr(s, k) for k in "
            "['DEBUG','SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SECURE_HSTS_SECONDS',"
            "'SECURE_SSL_REDIRECT','SESSION_COOKIE_HTTPONLY']}))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("GUANXI_DEV", "GUANXI_TESTING", "DEBUG")}
    env["SECRET_KEY"] = "x" * 50
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    values = json.loads(out.stdout)
    assert values == {"DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
                      "SECURE_HSTS_SECONDS": 31536000, "SECURE_SSL_REDIRECT": True,
                      "SESSION_COOKIE_HTTPONLY": True}
    env.pop("SECRET_KEY")
    failed = subprocess.run([sys.executable, "-c", "import guanxi.settings"], env=env,
                            capture_output=True, text=True)
    assert failed.returncode != 0 and "SECRET_KEY is not set" in failed.stderr


def test_session_expires(settings):
    from django.conf import settings as live

    assert live.SESSION_COOKIE_AGE <= 12 * 3600
    assert live.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_nul_characters_are_refused_naming_the_field(client, users, actors):
    """No database stores NUL in text (PostgreSQL refuses it): every way in answers 400
    naming the field, and nothing reaches a view."""
    from guanxi.core import services

    token = services.token_create(actor=actors["sales1"], user=users["sales1"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    r = client.get("/api/v1/leads", {"q": "a\x00b"}, **auth)
    assert r.status_code == 400 and r.json()["errors"] == {"q": ["Text may not contain NUL "
                                                                 "characters."]}
    r = client.post("/api/v1/customers", data=json.dumps({"name": "张\u0000三",
                                                            "tags": ["ok", "x\u0000"]}),
                    content_type="application/json", **auth)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"name", "tags[1]"}
    client.force_login(users["sales1"])
    r = client.get("/customers/", {"q": "\x00"})
    assert r.status_code == 400 and b"q" in r.content
    assert client.get("/api/v1/leads", {"q": "ab"}, **auth).status_code == 200


def test_requests_refused_before_the_api_still_answer_json(client, users):
    """A malformed Host header is refused before any view runs; an API client still gets
    the API's JSON error shape, a browser the plain page."""
    r = client.post("/api/v1/interactions/tasks", data="{}", content_type="application/json",
                    HTTP_HOST="y/lz-56s-")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json" and r.json() == {"detail": "Bad request."}
    r = client.get("/customers/", HTTP_HOST="y/lz-56s-")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["detail"]
