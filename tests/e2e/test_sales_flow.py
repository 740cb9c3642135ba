"""A lead arrives from the web form, is converted, its opportunity is dragged to won, a quote
is approved, printed and turned into an order, an email is sent and its reply appears on the
customer's timeline — in a real browser, with real SMTP and IMAP servers on loopback."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.conftest import shot, sign_in


def _assign_new_leads_to(username: str) -> None:
    from guanxi.core.models import User
    from guanxi.sales.models import AssignmentRule
    from guanxi.sales.queries.leads import team_members_for_assignment

    user = User.objects.get(username=username)
    members = team_members_for_assignment(user.team_id)
    before = [m for m in members if m < user.pk]
    AssignmentRule.objects.create(team_id=user.team_id, position=1,
                                  last_user_id=before[-1] if before else None)


def test_lead_to_order_to_email(demo, new_page, smtp_server, imap_server):
    _assign_new_leads_to("sales1")

    # 1. A visitor fills in the public form.
    visitor = new_page("zh-CN")
    visitor.goto("/sales/form/?campaign=双11")
    visitor.fill("#id_name", "李雷")
    visitor.fill("#id_company", "雷霆科技有限公司")
    visitor.fill("#id_phone", "+86 139-1111-2222")
    visitor.fill("#id_email", "lilei@leiting.example.cn")
    visitor.check("#id_consent")
    time.sleep(3.2)  # the form drops submissions faster than a person types
    visitor.click("#send")
    expect(visitor.locator("#thanks")).to_be_visible()

    # 2. sales1 converts the lead into customer + contact + opportunity.
    page = new_page("en-US")
    sign_in(page, "sales1")
    page.goto("/sales/leads/")
    page.locator("#rows a", has_text="李雷").first.click()
    page.fill("input[name=amount]", "120000")
    page.click("#convert")
    expect(page.locator("#opportunity-name")).to_contain_text("雷霆科技有限公司")
    opportunity_url = page.url
    opp_id = int(re.search(r"/opportunities/(\d+)/", opportunity_url).group(1))
    customer_href = page.locator("dl a[href^='/customers/']").first.get_attribute("href")
    customer_id = int(re.search(r"/customers/(\d+)/", customer_href).group(1))
    shot(page, "20-converted")

    # 3. Drag it to won on the board.
    page.goto("/sales/opportunities/board/")
    page.click("#board-mine")
    card = page.locator(f".kanban-card[data-id='{opp_id}']")
    target = page.locator(".kanban-col.won .kanban-cards")
    expect(card).to_be_visible()
    shot(page, "21-board-before")
    card.drag_to(target, target_position={"x": 40, "y": 20})
    expect(page.locator(f".kanban-col.won .kanban-card[data-id='{opp_id}']")).to_be_visible()
    expect(card).to_have_class(re.compile("border-success"))
    shot(page, "21-board-won")

    # 4. A quote with a 20% discount needs the manager's approval.
    page.goto(f"/sales/quotes/new/?customer={customer_id}&opportunity={opp_id}")
    product = page.locator("select[name$='-product']").first
    product.select_option(index=1)
    expect(page.locator("input[name$='-unit_price']").first).not_to_have_value("")
    discount = page.locator("input[name$='-discount']").first
    discount.fill("20")
    discount.press("Tab")
    expect(page.locator("#approval-hint")).to_be_visible()
    page.click("#save-quote")
    expect(page.locator("#quote-number")).to_be_visible()
    quote_url = page.url
    page.click("#submit-quote")
    expect(page.locator("#quote-status")).to_contain_text(re.compile("approval", re.I))

    manager = new_page("en-US")
    sign_in(manager, "manager")
    manager.goto(quote_url)
    manager.click("#approve-quote")
    expect(manager.locator("#quote-status")).to_contain_text(re.compile("approved", re.I))

    page.goto(quote_url)
    pdf = page.request.get(page.locator("#quote-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    page.on("dialog", lambda d: d.accept())
    page.click("#order-quote")
    expect(page).to_have_url(re.compile(r"/sales/orders/\d+/"))
    shot(page, "22-order")

    # 5. An email from the customer page; the reply is fetched and filed on the timeline.
    page.goto(f"/customers/{customer_id}/")
    page.locator("#write-email").click()
    page.fill("#id_subject", "报价单已确认")
    page.fill("#id_body", "李先生您好，订单已生成。")
    page.click("#send-email")
    expect(page.locator(".alert-success")).to_be_visible()
    _, sent = smtp_server.only()
    reply = (f"From: 李雷 <lilei@leiting.example.cn>\r\nTo: {sent['From']}\r\n"
             f"Subject: Re: 报价单已确认\r\nIn-Reply-To: {sent['Message-ID']}\r\n"
             f"Message-ID: <reply-1@leiting.example.cn>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800"
             "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n收到，谢谢！\r\n")
    imap_server.deliver(reply.encode("utf-8"))
    from guanxi.core.access import Actor
    from guanxi.interactions import services

    services.mail_fetch(actor=Actor.system(channel="task"))
    page.goto(f"/customers/{customer_id}/")
    expect(page.locator("#timeline")).to_contain_text("Re: 报价单已确认")
    shot(page, "23-reply-on-timeline")
