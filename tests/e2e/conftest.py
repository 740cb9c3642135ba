"""Browser tests: Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

# Real SMTP (aiosmtpd) and IMAP (Dovecot) servers on loopback, shared with the mail tests.
from guanxi.interactions.tests.conftest import (  # noqa: E402,F401
    dovecot,
    imap_server,
    smtp_server,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("GUANXI_TEST_ARTIFACTS", "test-results"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def demo(transactional_db):
    from guanxi.core.models import Grant, Role, User
    from guanxi.core.roles import ensure_default_roles

    ensure_default_roles(Role, Grant, User)
    call_command("guanxi_demo", customers=40, seed=7)


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(locale: str = "en-US"):
        ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900},
                                  base_url=live_server.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str, password: str = "guanxi-demo") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url("**/")
