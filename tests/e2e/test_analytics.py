"""An analyst opens the customer-value dashboard, drills into an RFM class, sees who is in it
and why, and exports the list; a sales rep's drill-down holds only their team."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot, sign_in


def test_dashboard_drilldown_and_export(demo, new_page):
    page = new_page("zh-CN")
    sign_in(page, "analyst1")
    page.click("#nav-analytics")
    expect(page.locator("#rfm-classes")).to_be_visible()
    expect(page.locator("#chart-classes canvas")).to_have_count(1)
    shot(page, "10-analytics-dashboard")
    target = page.locator("#rfm-classes a", has_text="重要挽留客户")
    link = target.first if target.count() else page.locator("#rfm-classes a").first
    label = link.inner_text()
    link.click()
    expect(page.locator("#segment-title")).to_contain_text(label)
    rows = page.locator("#segment-rows tbody tr")
    expect(rows.first).to_be_visible()
    first_row = rows.first.inner_text()
    assert re.search(r"\*\*\*\*", first_row), "an analyst sees phone numbers masked"
    shot(page, "11-segment")
    with page.expect_download() as info:
        page.click("#export-segment")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported and all("****" in r["phone"] for r in exported if r["phone"])
    assert {r["rfm_class"] for r in exported} == {exported[0]["rfm_class"]}

    rep = new_page("en-US")
    sign_in(rep, "sales2")
    rep.goto("/analytics/segment/")
    hrefs = rep.locator("#segment-rows tbody tr td:first-child a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    ids = {int(re.search(r"/customers/(\d+)/", h).group(1)) for h in hrefs}
    from guanxi.customers.models import Customer

    teams = set(Customer.objects.filter(pk__in=ids).values_list("team__code", flat=True))
    assert ids and teams == {"north"}
