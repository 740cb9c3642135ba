"""Email with real servers on loopback: sending from a customer's page through SMTP
(aiosmtpd), fetching replies from an IMAP mailbox (dovecot) and filing them on the right
customer, idempotent by Message-ID and resumable after a crash; reminders by email."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest
from django.utils import timezone

from guanxi.core.exceptions import ValidationError
from guanxi.core.models import AuditRecord, JobRun
from guanxi.customers import services as customer_services
from guanxi.customers.models import ContactPoint
from guanxi.customers.tests.factories import customer
from guanxi.interactions import mail, services, tasks
from guanxi.interactions.models import Interaction, Notification, UnfiledMail
from guanxi.interactions.tests.conftest import FROM
from guanxi.interactions.tests.factories import task

pytestmark = pytest.mark.django_db


def message(sender: str, subject: str, body: str = "您好", *, message_id: str,
            in_reply_to: str = "", references: str = "", html: bool = False) -> bytes:
    headers = [f"From: {sender}", f"To: {FROM}", f"Subject: {subject}",
               f"Message-ID: {message_id}",
               f"Date: {format_datetime(timezone.now() - dt.timedelta(minutes=5))}",
               "MIME-Version: 1.0",
               f"Content-Type: text/{'html' if html else 'plain'}; charset=utf-8",
               "Content-Transfer-Encoding: 8bit"]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(f"References: {references}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.fixture
def zhang(actors):
    return customer(actors["sales1"], "张三", email="Zhang.San@Example.com")


# Sending --------------------------------------------------------------------------------

def test_send_from_the_customer_page_through_smtp(client, users, zhang, smtp_server):
    client.force_login(users["sales1"])
    point = ContactPoint.objects.get(customer=zhang, kind="email")
    page = client.get(f"/interactions/email/new/?customer={zhang.pk}").content.decode()
    assert "Zhang.San@Example.com" in page and "not recorded" in page  # consent shown
    r = client.post(f"/interactions/email/new/?customer={zhang.pk}", {
        "customer": zhang.pk, "to": f"cp:{point.pk}", "subject": "报价确认",
        "body": "张先生，您好：\n附上报价。"})
    assert r.status_code == 302 and r["Location"] == f"/customers/{zhang.pk}/"
    rcpt, sent = smtp_server.only()
    assert rcpt == ["Zhang.San@Example.com"]
    assert sent["Subject"] == "报价确认" and FROM in sent["From"]
    assert "sales1" in sent["From"]  # the rep's name shows, replies go to the shared box
    assert "附上报价" in sent.get_body().get_content()
    i = Interaction.objects.get(customer=zhang)
    assert (i.channel, i.direction, i.initiator) == ("email", "out", "company")
    assert i.email_message_id == sent["Message-ID"]
    assert i.email_address == "Zhang.San@Example.com"
    assert AuditRecord.objects.filter(model="interactions.interaction", action="create",
                                      object_id=str(i.pk)).exists()


def test_a_refusing_server_keeps_nothing(client, users, zhang, settings):
    from guanxi.interactions.tests.conftest import free_port

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": free_port(),
                                                "timeout": 2}}}
    client.force_login(users["sales1"])
    point = ContactPoint.objects.get(customer=zhang, kind="email")
    r = client.post(f"/interactions/email/new/?customer={zhang.pk}", {
        "customer": zhang.pk, "to": f"cp:{point.pk}", "subject": "报价", "body": "内容"})
    assert r.status_code == 200 and "did not accept the message" in r.content.decode()
    assert not Interaction.objects.exists()
    assert not AuditRecord.objects.filter(model="interactions.interaction").exists()


def test_only_the_customers_own_addresses(actors, zhang, smtp_server):
    other = customer(actors["sales1"], "李四", email="li@example.com")
    foreign = ContactPoint.objects.get(customer=other, kind="email")
    with pytest.raises(ValidationError) as exc:
        services.email_send(actor=actors["sales1"], customer_id=zhang.pk,
                            to=f"cp:{foreign.pk}", subject="x", body="y")
    assert "to" in exc.value.message_dict
    assert smtp_server.messages == []


def test_mail_to_a_contact_person(actors, smtp_server):
    org = customer(actors["sales1"], "华信科技", kind="organisation")
    wang = customer_services.contact_create(actor=actors["sales1"], customer_id=org.pk,
                                            data={"name": "王五", "email": "wang@hx.example"})
    i = services.email_send(actor=actors["sales1"], customer_id=org.pk,
                            to=f"contact:{wang.pk}", subject="会议纪要", body="见附件")
    assert i.contact_id == wang.pk
    assert smtp_server.only()[0] == ["wang@hx.example"]


def test_reminders_by_email(users, actors, smtp_server, system_actor):
    users["sales1"].email = "sales1@guanxi.test"
    users["sales1"].save()
    c = customer(actors["sales1"], "张三")
    task(actors["sales1"], "回访张三", customer=c.pk, due_in=dt.timedelta(minutes=-1))
    assert services.reminders_send(actor=system_actor) == 1
    rcpt, sent = smtp_server.only()
    assert rcpt == ["sales1@guanxi.test"]
    assert sent["Subject"] == "Reminder: 回访张三"
    body = sent.get_body().get_content()
    assert "Customer: 张三" in body and "https://crm.guanxi.test/interactions/tasks/" in body
    assert Notification.objects.filter(user=users["sales1"], kind="task_reminder").exists()


# Fetching -------------------------------------------------------------------------------

def test_replies_are_filed_by_address_and_by_reference(actors, users, zhang, smtp_server,
                                                        imap_server, system_actor):
    sent = services.email_send(actor=actors["sales1"], customer_id=zhang.pk,
                               to=f"cp:{ContactPoint.objects.get(customer=zhang).pk}",
                               subject="报价", body="请查收")
    org = customer(actors["sales1"], "华信科技", kind="organisation")
    customer_services.contact_create(actor=actors["sales1"], customer_id=org.pk,
                                     data={"name": "王五", "email": "wang@hx.example"})
    imap_server.deliver(message("张三 <zhang.san@example.com>", "Re: 报价", "收到，谢谢",
                                message_id="<r1@example.com>"))
    imap_server.deliver(message("Zhang's assistant <assist@elsewhere.example>", "Re: 报价",
                                "代张先生回复", message_id="<r2@elsewhere.example>",
                                in_reply_to=sent.email_message_id))
    imap_server.deliver(message("王五 <WANG@hx.example>", "合同", "合同已盖章",
                                message_id="<r3@hx.example>", html=False))
    imap_server.deliver(message("stranger@nowhere.example", "广告", "<p>优惠</p>",
                                message_id="<spam@nowhere.example>", html=True))
    run = services.mail_fetch(actor=system_actor, config=imap_server.config)
    assert run.status == "done" and run.done == 4 and run.total == 4
    assert (run.params["filed"], run.params["unfiled"]) == (3, 1)
    by_id = {i.email_message_id: i for i in Interaction.objects.filter(direction="in")}
    assert by_id["<r1@example.com>"].customer_id == zhang.pk
    assert by_id["<r2@elsewhere.example>"].customer_id == zhang.pk  # by In-Reply-To
    assert by_id["<r3@hx.example>"].customer_id == org.pk
    assert by_id["<r3@hx.example>"].contact.name == "王五"
    first = by_id["<r1@example.com>"]
    assert (first.channel, first.initiator, first.subject, first.body) == (
        "email", "customer", "Re: 报价", "收到，谢谢")
    spam = UnfiledMail.objects.get()
    assert (spam.from_address, spam.body, spam.reason) == ("stranger@nowhere.example", "优惠",
                                                           "unknown sender")
    assert Notification.objects.filter(user=users["sales1"], kind="mail_received").count() == 3
    # The customer's timeline shows the reply.
    from guanxi.core import timeline

    titles = [e.title for e in timeline.entries(actor=actors["sales1"], customer_id=zhang.pk)]
    assert "email: Re: 报价" in titles

    # Fetching again files nothing twice, even from the start of the mailbox.
    again = services.mail_fetch(actor=system_actor, config=imap_server.config)
    assert again.done == 0
    JobRun.objects.all().update(cursor="")
    once_more = services.mail_fetch(actor=system_actor, config=imap_server.config)
    assert once_more.params["known"] == 4
    assert Interaction.objects.filter(direction="in").count() == 3
    assert UnfiledMail.objects.count() == 1


def test_a_crashed_fetch_resumes_after_the_last_committed_batch(
        actors, zhang, imap_server, system_actor, monkeypatch):
    for n in range(5):
        imap_server.deliver(message("zhang.san@example.com", f"第{n}封", message_id=f"<m{n}@x>"))
    calls: list[str] = []
    real = services.file_fetched

    def flaky(*, actor, fetched):
        calls.append(fetched.message_id)
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        return real(actor=actor, fetched=fetched)

    monkeypatch.setattr(services, "file_fetched", flaky)
    with pytest.raises(RuntimeError):
        services.mail_fetch(actor=system_actor, config=imap_server.config, batch_size=2)
    failed = JobRun.objects.get()
    assert failed.status == "failed" and failed.done == 2 and failed.cursor.endswith(":2")
    assert Interaction.objects.count() == 2  # the third message's batch rolled back
    monkeypatch.setattr(services, "file_fetched", real)
    calls.clear()
    resumed = services.mail_fetch(actor=system_actor, config=imap_server.config, batch_size=2)
    assert resumed.status == "done" and resumed.total == 3 and resumed.done == 3
    assert Interaction.objects.count() == 5
    assert sorted(Interaction.objects.values_list("subject", flat=True)) == [
        f"第{n}封" for n in range(5)]


def test_an_address_shared_by_two_customers_is_not_guessed(actors, imap_server, system_actor):
    customer(actors["sales1"], "张三", email="family@example.com")
    customer(actors["sales1"], "张太太", email="family@example.com")
    imap_server.deliver(message("family@example.com", "问题", message_id="<f1@x>"))
    run = services.mail_fetch(actor=system_actor, config=imap_server.config)
    assert run.params == {"mailbox": imap_server.config.name, "unfiled": 1}
    assert UnfiledMail.objects.get().reason == "several customers"


def test_unfiled_mail_is_filed_by_hand_and_the_address_remembered(
        client, users, actors, zhang, imap_server, system_actor):
    imap_server.deliver(message("new.address@example.com", "换了邮箱", message_id="<n1@x>"))
    services.mail_fetch(actor=system_actor, config=imap_server.config)
    u = UnfiledMail.objects.get()
    client.force_login(users["sales1"])
    assert client.get("/interactions/mail/unfiled/").status_code == 403
    client.force_login(users["service"])
    assert "换了邮箱" in client.get("/interactions/mail/unfiled/").content.decode()
    r = client.post(f"/interactions/mail/unfiled/{u.pk}/file/",
                    {"customer": zhang.pk, "remember_address": "on"})
    assert r.status_code == 302
    filed = Interaction.objects.get(email_message_id="<n1@x>")
    assert filed.customer_id == zhang.pk and filed.owner == users["service"]
    assert ContactPoint.objects.filter(customer=zhang, normalized="new.address@example.com")
    assert not UnfiledMail.objects.exists()
    # Later mail from that address files itself.
    imap_server.deliver(message("new.address@example.com", "再来一封", message_id="<n2@x>"))
    services.mail_fetch(actor=system_actor, config=imap_server.config)
    assert Interaction.objects.get(email_message_id="<n2@x>").customer_id == zhang.pk


def test_the_fetch_task_and_the_page_button(client, users, zhang, imap_server):
    imap_server.deliver(message("zhang.san@example.com", "你好", message_id="<t1@x>"))
    result = tasks.fetch_mail.enqueue()
    assert result.return_value["done"] == 1
    imap_server.deliver(message("zhang.san@example.com", "又是我", message_id="<t2@x>"))
    client.force_login(users["admin"])
    r = client.post("/interactions/mail/fetch/")
    assert r.status_code == 302
    assert Interaction.objects.filter(customer=zhang, direction="in").count() == 2
    assert "Last fetch" in client.get("/interactions/mail/unfiled/").content.decode()


def test_a_wrong_password_is_a_mail_error(imap_server, system_actor):
    from dataclasses import replace

    with pytest.raises(mail.MailError):
        services.mail_fetch(actor=system_actor,
                            config=replace(imap_server.config, password="wrong"))
    assert JobRun.objects.get().status == "failed"


def test_parse_without_message_id_or_plain_text():
    raw = (b"From: =?utf-8?b?5byg5LiJ?= <ZS@Example.com>\r\nSubject: hi\r\n"
           b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p>\r\n")
    one, two = mail.parse(raw), mail.parse(raw)
    assert one.message_id == two.message_id and one.message_id.startswith("<sha256.")
    assert (one.from_name, one.from_address, one.body) == ("张三", "zs@example.com",
                                                           "Hello there")
    assert timezone.is_aware(one.date)
