"""Demo interactions, tasks, notifications and unfiled mail for the demo customers.

``guanxi demo`` calls :func:`load` after the sales demo. Idempotent: nothing is added when
interactions exist. Rows go in through the bulk services (validated, audited in bulk).
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from guanxi.core.access import Actor

# channel: (weight, subjects, outcomes)
CHANNELS = {
    "phone": (30, ["电话回访", "确认报价细节", "询问交货时间", "售后电话回访", "催款提醒"],
              ["客户满意", "需要再跟进", "未接通", "客户要求发资料", "已约拜访"]),
    "face_to_face": (12, ["上门拜访", "产品演示", "合同洽谈", "年度业务回顾"],
                     ["达成初步意向", "客户提出改进建议", "需要技术支持", "已签意向书"]),
    "email": (18, ["发送产品资料", "报价单确认", "会议纪要", "节日问候"],
              ["客户已回复", "等待回复", ""]),
    "wechat": (20, ["微信咨询", "发送新品介绍", "售后问题沟通", "活动邀请"],
               ["客户已读", "客户询价", "问题已解决", ""]),
    "sms": (6, ["订单发货通知", "会员积分提醒", "活动提醒"], ["", "客户回复确认"]),
    "event": (5, ["新品发布会", "客户俱乐部活动", "行业展会交流"], ["客户到场", "交换名片"]),
    "website": (4, ["官网留言咨询", "在线预约"], ["已回复", "转销售跟进"]),
    "letter": (2, ["寄送纸质合同", "寄送感谢信"], ["已签收", ""]),
    "app_push": (2, ["会员日推送", "新品上架推送"], [""]),
    "fax": (1, ["传真订货单"], ["已确认"]),
}
TASKS = ["回访客户", "发送报价单", "准备合同", "安排产品演示", "确认付款", "寄送样品",
         "整理需求", "跟进售后问题"]
PER_CUSTOMER = (0, 5)


def load(*, users: dict, seed: int, stdout) -> None:
    from guanxi.interactions import queries, services

    existing, customers = queries.demo_state()
    if existing:
        stdout.write(f"Demo interactions already present ({existing}).")
        return
    if not customers:
        return
    rng = random.Random(seed)
    actor = Actor.system("system")
    now = timezone.now().replace(second=0, microsecond=0)
    morning = timezone.localtime(now).replace(hour=9, minute=0)  # working hours, local time
    names = list(CHANNELS)
    weights = [CHANNELS[c][0] for c in names]
    rows = []
    for cid, owner, _team in customers:
        for _ in range(rng.randint(*PER_CUSTOMER)):
            channel = rng.choices(names, weights)[0]
            _w, subjects, outcomes = CHANNELS[channel]
            when = morning - dt.timedelta(days=rng.randint(1, 180)) + dt.timedelta(
                hours=rng.randint(0, 8), minutes=rng.choice([0, 15, 30, 45]))
            inbound = channel in ("website", "wechat") and rng.random() < 0.5
            rows.append({
                "customer": cid, "owner": owner, "channel": channel,
                "initiator": "customer" if inbound else "company",
                "direction": "in" if inbound else "out",
                "purpose": rng.choice(["information", "information", "emotion", "opinion"]),
                "subject": rng.choice(subjects), "outcome": rng.choice(outcomes),
                "occurred_at": when,
                "duration_minutes": (rng.choice([15, 30, 60, 90])
                                     if channel in ("phone", "face_to_face", "event")
                                     else None),
            })
    # A few planned visits in the next two weeks, for the calendar.
    for cid, owner, _team in rng.sample(customers, min(40, len(customers))):
        rows.append({"customer": cid, "owner": owner, "channel": "face_to_face",
                     "subject": "计划拜访", "occurred_at": morning + dt.timedelta(
                         days=rng.randint(1, 14), hours=rng.randint(0, 8)),
                     "duration_minutes": 60})
    made = services.interactions_bulk_create(actor=actor, rows=rows)
    tasks = []
    for cid, owner, _team in rng.sample(customers, min(300, len(customers))):
        due = morning + dt.timedelta(days=rng.randint(-10, 20), hours=rng.randint(0, 8))
        row = {"title": rng.choice(TASKS), "customer": cid, "assignee": owner, "due_at": due}
        if due < now:
            row["reminded_at"] = due
            if rng.random() < 0.6:
                row["done_at"] = due
        tasks.append(row)
    services.tasks_bulk_create(actor=actor, rows=tasks)
    _notifications(users)
    _unfiled(actor, now)
    stdout.write(f"Created {made} demo interactions and {len(tasks)} tasks.")


def _notifications(users: dict) -> None:
    from django.utils.translation import gettext_lazy as _

    from guanxi.interactions import services

    reps = [users[name].pk for name in ("sales1", "sales2", "manager") if name in users]
    services.notify(reps, _("Welcome to your task list: overdue tasks are shown in red."),
                    "/interactions/tasks/?view=overdue", kind="demo")


def _unfiled(actor: Actor, now: dt.datetime) -> None:
    from guanxi.interactions import mail, services

    samples = [("newsletter@example.net", "行业周报", "本周行业动态……"),
               ("wang.qiang@example.org", "咨询产品价格", "您好，想了解贵公司产品的报价。")]
    for n, (address, subject, body) in enumerate(samples):
        services.file_fetched(actor=actor, fetched=mail.FetchedMail(
            uid=n, message_id=f"<demo-unfiled-{n}@guanxi.example>", from_address=address,
            from_name="", to="crm@guanxi.example", subject=subject, body=body,
            date=now - dt.timedelta(hours=n + 1)))
