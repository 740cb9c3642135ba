"""Interaction and task services: validation, audit, events, versions, rollback, follow-ups,
notifications and the events of other apps that notify."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import AuditRecord
from guanxi.customers import services as customer_services
from guanxi.customers.tests.factories import customer
from guanxi.interactions import services
from guanxi.interactions.models import Interaction, Notification, Task
from guanxi.interactions.tests.factories import interaction, task

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_an_interaction_audits_and_emits(actors, users, events):
    c = customer(actors["sales1"], "张三")
    i = services.interaction_create(actor=actors["sales1"], customer_id=c.pk, data={
        "channel": "face_to_face", "subject": " 上门  拜访 ", "initiator": "company",
        "outcome": "达成意向", "location": "客户办公室", "duration_minutes": 60,
        "purpose": "information"})
    assert i.subject == "上门 拜访"
    assert (i.owner_id, i.team_id, i.direction) == (users["sales1"].pk, users["sales1"].team_id,
                                                   "out")
    rec = AuditRecord.objects.get(model="interactions.interaction", object_id=str(i.pk))
    assert rec.action == "create" and rec.channel == "web"
    assert rec.changes["channel"] == [None, "face_to_face"]
    assert rec.changes["outcome"] == [None, "达成意向"]
    assert ("interactions.interaction_logged", {
        "interaction_id": i.pk, "customer_id": c.pk, "channel": "face_to_face",
        "actor_id": users["sales1"].pk}) in events


def test_every_channel_of_the_domain_can_be_logged(actors):
    c = customer(actors["sales1"], "张三")
    channels = ["face_to_face", "phone", "letter", "email", "website", "wechat", "sms",
                "app_push", "event", "social", "fax"]
    for ch in channels:
        interaction(actors["sales1"], c.pk, f"经由{ch}", channel=ch)
    assert sorted(Interaction.objects.values_list("channel", flat=True)) == sorted(channels)


def test_the_customer_starting_it_means_inbound(actors):
    c = customer(actors["sales1"], "张三")
    i = interaction(actors["sales1"], c.pk, "客户来电", initiator="customer")
    assert i.direction == "in"
    j = interaction(actors["sales1"], c.pk, "官网留言", channel="website", direction="in")
    assert j.initiator == "customer"


def test_validation_errors_name_the_field(actors, users):
    c = customer(actors["sales1"], "张三")
    with pytest.raises(ValidationError) as exc:
        services.interaction_create(actor=actors["sales1"], customer_id=c.pk, data={
            "channel": "carrier pigeon", "subject": ""})
    assert set(exc.value.message_dict) >= {"channel", "subject"}
    with pytest.raises(ValidationError) as exc:
        interaction(actors["sales1"], c.pk, occurred_at=timezone.now(),
                    follow_up_at=timezone.now() - dt.timedelta(days=1))
    assert "follow_up_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        interaction(actors["sales1"], c.pk, bogus=1)
    assert "bogus" in exc.value.message_dict
    other_org = customer(actors["sales1"], "别家公司", kind="organisation")
    someone = customer_services.contact_create(actor=actors["sales1"], customer_id=other_org.pk,
                                               data={"name": "王五"})
    with pytest.raises(ValidationError) as exc:
        interaction(actors["sales1"], c.pk, contact=someone.pk)
    assert "contact" in exc.value.message_dict
    assert not Interaction.objects.exists()


def test_logging_needs_change_on_the_customer(actors):
    c = customer(actors["sales1"], "张三")
    with pytest.raises(NotFound):  # another team: invisible
        interaction(actors["sales2"], c.pk)
    with pytest.raises(PermissionDenied):  # a teammate sees it but may not change it
        interaction(actors["sales1b"], c.pk)
    with pytest.raises(PermissionDenied):
        interaction(actors["analyst"], c.pk)
    interaction(actors["manager"], c.pk)  # team scope
    interaction(actors["service"], c.pk)  # all
    assert Interaction.objects.count() == 2


def test_a_follow_up_date_adds_a_task_for_the_logger(actors, users):
    c = customer(actors["sales1"], "张三")
    when = timezone.now() + dt.timedelta(days=3)
    i = interaction(actors["sales1"], c.pk, "报价", follow_up_at=when)
    t = Task.objects.get(interaction=i)
    assert (t.assignee_id, t.customer_id, t.due_at) == (users["sales1"].pk, c.pk, when)
    assert t.title == "Follow up: 报价"


def test_update_records_old_and_new_values_with_a_version(actors, events):
    c = customer(actors["sales1"], "张三")
    i = interaction(actors["sales1"], c.pk)
    updated = services.interaction_update(actor=actors["sales1"], interaction_id=i.pk,
                                          version=1, changes={"outcome": "客户满意"})
    assert updated.version == 2
    rec = AuditRecord.objects.get(object_id=str(i.pk), model="interactions.interaction",
                                  action="update")
    assert rec.changes == {"outcome": [None, "客户满意"]} and rec.customer_id == c.pk
    with pytest.raises(Conflict) as exc:
        services.interaction_update(actor=actors["sales1"], interaction_id=i.pk, version=1,
                                    changes={"outcome": "不满意"})
    assert exc.value.current_version == 2 and exc.value.current["outcome"] == "客户满意"
    assert any(n == "interactions.interaction_updated" for n, _ in events)


def test_a_rolled_back_write_leaves_no_audit_and_no_event(actors, events):
    c = customer(actors["sales1"], "张三")
    events.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        interaction(actors["sales1"], c.pk, follow_up_at=timezone.now() + dt.timedelta(days=1))
        raise RuntimeError("boom")
    assert not Interaction.objects.exists() and not Task.objects.exists()
    assert not AuditRecord.objects.filter(model__startswith="interactions.").exists()
    assert events == []


# Tasks ----------------------------------------------------------------------------------

def test_task_defaults_to_the_actor_and_notifies_another_assignee(actors, users, events):
    t = task(actors["sales1"], "准备合同")
    assert (t.assignee_id, t.team_id) == (users["sales1"].pk, users["sales1"].team_id)
    assert not Notification.objects.exists()
    t2 = task(actors["manager"], "回访华信", assignee=users["sales1b"].pk)
    assert t2.team_id == users["sales1b"].team_id
    n = Notification.objects.get(user=users["sales1b"])
    assert n.kind == "task_assigned" and "回访华信" in n.text
    assert n.url == f"/interactions/tasks/{t2.pk}/"
    assert any(name == "interactions.task_created" for name, _ in events)


def test_who_may_give_tasks_to_whom(actors, users):
    with pytest.raises(PermissionDenied):  # a rep only to themselves
        task(actors["sales1"], assignee=users["sales1b"].pk)
    with pytest.raises(PermissionDenied):  # a manager only within the team
        task(actors["manager"], assignee=users["sales2"].pk)
    with pytest.raises(PermissionDenied):  # no change grant at all
        task(actors["analyst"])
    task(actors["service"], assignee=users["sales2"].pk)  # all
    with pytest.raises(ValidationError) as exc:
        task(actors["manager"], assignee=999999)
    assert "assignee" in exc.value.message_dict


def test_a_task_about_a_customer_needs_to_see_it(actors):
    c = customer(actors["sales2"], "北方客户")
    with pytest.raises(ValidationError) as exc:
        task(actors["sales1"], customer=c.pk)
    assert "customer" in exc.value.message_dict
    assert task(actors["sales2"], customer=c.pk).customer_id == c.pk


def test_update_complete_reopen_with_versions_and_audit(actors, users, events):
    t = task(actors["manager"], "安排演示")
    t = services.task_update(actor=actors["manager"], task_id=t.pk, version=1,
                             changes={"assignee": users["sales1"].pk})
    assert t.version == 2 and t.assignee_id == users["sales1"].pk
    assert Notification.objects.filter(user=users["sales1"], kind="task_assigned").exists()
    with pytest.raises(Conflict):
        services.task_update(actor=actors["manager"], task_id=t.pk, version=1,
                             changes={"title": "x"})
    with pytest.raises(PermissionDenied):  # the teammate sees it, may not complete it
        services.task_complete(actor=actors["sales1b"], task_id=t.pk)
    with pytest.raises(NotFound):
        services.task_complete(actor=actors["sales2"], task_id=t.pk)
    done = services.task_complete(actor=actors["sales1"], task_id=t.pk, version=2)
    assert done.done_at is not None and done.version == 3
    again = services.task_complete(actor=actors["sales1"], task_id=t.pk)
    assert again.version == 3  # idempotent
    reopened = services.task_reopen(actor=actors["sales1"], task_id=t.pk)
    assert reopened.done_at is None
    recs = AuditRecord.objects.filter(model="interactions.task", object_id=str(t.pk))
    assert [r.action for r in recs.order_by("id")] == ["create", "update", "update", "update"]
    names = [n for n, _ in events]
    assert "interactions.task_completed" in names and "interactions.task_reopened" in names


def test_a_rep_cannot_hand_a_task_outside_their_scope(actors, users):
    t = task(actors["sales1"])
    with pytest.raises(PermissionDenied):
        services.task_update(actor=actors["sales1"], task_id=t.pk, version=1,
                             changes={"assignee": users["sales1b"].pk})
    assert Task.objects.get(pk=t.pk).assignee_id == users["sales1"].pk


def test_reminders_go_out_once_in_the_app(actors, users, system_actor):
    soon = task(actors["sales1"], "回访", due_in=dt.timedelta(hours=2),
                remind_at=timezone.now() - dt.timedelta(minutes=1))
    due = task(actors["sales1"], "催款", due_in=dt.timedelta(minutes=-5))
    later = task(actors["sales1"], "以后", due_in=dt.timedelta(days=5))
    finished = task(actors["sales1"], "已完成", due_in=dt.timedelta(minutes=-5))
    services.task_complete(actor=actors["sales1"], task_id=finished.pk)
    assert services.reminders_send(actor=system_actor) == 2
    assert services.reminders_send(actor=system_actor) == 0
    texts = sorted(Notification.objects.filter(user=users["sales1"]).values_list("text",
                                                                                   flat=True))
    assert len(texts) == 2 and all(t.startswith("Reminder: ") for t in texts)
    assert Task.objects.get(pk=soon.pk).reminded_at is not None
    assert Task.objects.get(pk=due.pk).reminded_at is not None
    assert Task.objects.get(pk=later.pk).reminded_at is None
    # A new due date arms the reminder again.
    services.task_update(actor=actors["sales1"], task_id=due.pk, version=1,
                         changes={"due_at": timezone.now() - dt.timedelta(minutes=1)})
    assert services.reminders_send(actor=system_actor) == 1


# Notifications --------------------------------------------------------------------------

def test_notify_in_each_recipients_language_and_only_local_links(users):
    from django.utils.translation import gettext_lazy as _

    users["sales2"].language = "zh-hans"
    users["sales2"].save()
    made = services.notify([users["sales1"].pk, users["sales2"].pk, users["sales1"].pk],
                           _("Changes saved."), "https://evil.example/", kind="test")
    assert made == 2
    rows = {n.user_id: n for n in Notification.objects.all()}
    assert rows[users["sales1"].pk].text == "Changes saved."
    assert rows[users["sales1"].pk].url == ""
    assert rows[users["sales2"].pk].kind == "test"


def test_mark_read_is_personal(actors, users):
    services.notify([users["sales1"].pk], "hello", "/interactions/tasks/")
    n = Notification.objects.get()
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=actors["sales1b"], notification_id=n.pk)
    assert services.notification_mark_read(actor=actors["sales1"],
                                           notification_id=n.pk).read_at is not None
    services.notify([users["sales1"].pk], "again")
    assert services.notifications_mark_all_read(actor=actors["sales1"]) == 1


def test_quote_approval_requests_notify_the_approvers(users, actors):
    """Another app emits ``sales.quote_approval_requested``; those whose grants let them
    approve that quote are told: the east manager (team) and the administrator (all), not
    the north rep or the requester."""
    from guanxi.sales.models import Quote

    c = customer(actors["sales1"], "华信科技", kind="organisation")
    quote = Quote.objects.create(number="Q-TEST-1", customer=c, owner=users["sales1"],
                                 team=users["sales1"].team)
    with transaction.atomic():
        emit("sales.quote_approval_requested", quote_id=quote.pk,
             actor_id=users["sales1"].pk)
    notified = set(Notification.objects.filter(kind="quote_approval").values_list(
        "user__username", flat=True))
    assert notified == {"manager", "admin"}
    assert "Q-TEST-1" in Notification.objects.filter(kind="quote_approval").first().text


def test_a_new_owner_is_told(users, actors):
    c = customer(actors["manager"], "张三", owner=users["sales1"].pk)
    customer_services.customer_update(actor=actors["manager"], customer_id=c.pk,
                                      version=c.version, changes={"owner": users["sales1b"].pk})
    n = Notification.objects.get(user=users["sales1b"])
    assert n.kind == "customer_assigned" and n.url == f"/customers/{c.pk}/"


def test_a_task_about_a_customer_goes_only_to_someone_who_sees_it(actors, users):
    north = customer(actors["sales2"], "北方客户")
    with pytest.raises(ValidationError) as exc:
        task(actors["service"], customer=north.pk, assignee=users["sales1"].pk)
    assert "assignee" in exc.value.message_dict
    assert task(actors["service"], customer=north.pk,
                assignee=users["sales2"].pk).assignee_id == users["sales2"].pk
