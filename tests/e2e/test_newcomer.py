"""The newcomer's first session, in a real browser (README, "Try it")."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot, sign_in


def test_newcomer_creates_finds_edits_and_sees_history(demo, new_page):
    page = new_page("en-US")
    sign_in(page, "sales1")
    expect(page.locator("h1")).to_contain_text("Welcome")

    # Switch to Chinese: the whole interface follows.
    page.click("#lang-zh-hans")
    expect(page.locator("nav, header").first).to_contain_text("客户")
    shot(page, "01-home-zh")

    # Create 张三 with a phone written the way people write it.
    page.goto("/customers/new/")
    page.fill("#id_name", "张三")
    page.fill("#id_phone", "+86 138-0013-8000")
    page.fill("#id_email", "zhangsan@example.com")
    page.click("#save")
    expect(page.locator("#customer-name")).to_have_text("张三")
    expect(page.locator("#contact-points")).to_contain_text("138 0013 8000")
    customer_url = page.url
    shot(page, "02-created")

    # Find him by typing his initials in the search box.
    page.goto("/customers/")
    page.fill("#quick-search", "zs")
    result = page.locator("#search-results a", has_text="张三").first
    expect(result).to_be_visible()
    shot(page, "03-search-zs")
    result.click()
    expect(page.locator("#customer-name")).to_have_text("张三")

    # Edit him; the change shows on his timeline with old and new value.
    page.click("#edit-customer")
    page.fill("#id_occupation", "教师")
    page.click("#save")
    expect(page.locator("#timeline")).to_contain_text("教师")
    expect(page.locator("#timeline")).to_contain_text("sales1")
    shot(page, "04-timeline")

    # sales2 (the other team) cannot see him anywhere.
    other = new_page("en-US")
    sign_in(other, "sales2")
    other.goto("/customers/")
    other.fill("#quick-search", "zs")
    expect(other.locator("#search-results")).to_be_visible()
    expect(other.locator("#search-results")).not_to_contain_text("张三")
    other.goto("/customers/?q=%E5%BC%A0%E4%B8%89")
    expect(other.locator("#rows")).not_to_contain_text("张三")
    response = other.goto(customer_url)
    assert response.status == 404
    api = other.request.get(re.sub(r"/customers/(\d+)/$", r"/api/v1/customers/\1",
                                   customer_url))
    assert api.status == 404
    shot(other, "05-sales2-404")


def test_conflicting_edits_keep_both_inputs(demo, new_page):
    first, second = new_page(), new_page()
    sign_in(first, "manager")
    sign_in(second, "manager")
    first.goto("/customers/?q=zs")
    first.goto("/customers/new/")
    first.fill("#id_name", "冲突测试")
    first.click("#save")
    edit_url = first.url + "edit/"
    first.goto(edit_url)
    second.goto(edit_url)
    first.fill("#id_occupation", "医生")
    first.click("#save")
    expect(first.locator("#timeline")).to_contain_text("医生")
    second.fill("#id_occupation", "律师")
    second.click("#save")
    expect(second.locator("#conflict")).to_be_visible()
    expect(second.locator("#conflict")).to_contain_text("医生")
    expect(second.locator("#id_occupation")).to_have_value("律师")
    shot(second, "06-conflict")
    second.click("#save")
    expect(second.locator("#timeline")).to_contain_text("律师")
