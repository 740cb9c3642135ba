"""Demo leads, opportunities (open, won and lost, with stage history) and monthly targets,
so the board, the forecast and the manager's numbers are non-empty. Idempotent."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.core.text import format_phone, normalize_phone
from guanxi.customers.models import Customer
from guanxi.sales.models import (
    Lead,
    Opportunity,
    Pipeline,
    SalesTarget,
    StageHistory,
)

TOPICS = ["ERP 升级", "年度采购", "门店扩张", "设备更新", "培训服务", "云服务续约", "新品试用",
          "渠道合作", "售后维保", "数据平台"]
LEAD_NAMES = ["陈晓", "刘洋", "王芳", "赵敏", "孙磊", "周杰", "吴静", "郑涛", "Anna Lee", "Tom Wu"]
COMPANIES = ["", "", "星河科技", "远航物流", "嘉禾食品", "鼎新制造", "锦程教育"]


def load(*, users, seed: int, stdout) -> None:
    if Opportunity.objects.exists() or Lead.objects.exists():
        return
    rng = random.Random(seed + 4)
    now = timezone.now()
    pipeline = Pipeline.objects.order_by("-is_default", "id").first()
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    customers = list(Customer.objects.order_by("id").values("id", "name", "owner_id",
                                                             "team_id")[:600])
    if not customers:
        return
    with transaction.atomic():
        opps, history = [], []
        for _ in range(320):
            c = rng.choice(customers)
            created = now - dt.timedelta(days=rng.randrange(5, 330))
            fate = rng.random()
            if fate < 0.25:
                stage, status = won, "won"
            elif fate < 0.4:
                stage, status = lost, "lost"
            else:
                stage, status = rng.choice(open_stages), "open"
            closed = created + dt.timedelta(days=rng.randrange(10, 90)) if status != "open" \
                else None
            if closed and closed > now:
                closed = now - dt.timedelta(days=1)
            amount = Decimal(rng.choice([8, 15, 30, 50, 80, 120, 250, 500]) * 1000
                             + rng.randrange(0, 999))
            close = (timezone.localdate() + dt.timedelta(days=rng.randrange(-10, 170))) \
                if status == "open" else closed.date()
            opps.append(Opportunity(
                name=f"{c['name'][:20]} · {rng.choice(TOPICS)}", customer_id=c["id"],
                pipeline=pipeline, stage=stage, status=status, amount=amount,
                amount_cny=amount, expected_close=close, owner_id=c["owner_id"],
                team_id=c["team_id"], closed_at=closed, created_at=created,
                updated_at=closed or created, stage_entered_at=closed or created,
                lost_reason=rng.choice(["价格偏高", "选择了竞争对手", "预算取消"])
                if status == "lost" else "",
                competitors=rng.choice(["", "用友", "金蝶", "Salesforce"]),
                next_step="" if status != "open" else rng.choice(["发送报价", "安排演示",
                                                                  "商务谈判", "技术交流"])))
        Opportunity.objects.bulk_create(opps)
        for o in opps:
            path = [s for s in open_stages if s.position <= o.stage.position] or open_stages[:1]
            if o.status != "open":
                path = open_stages[: rng.randrange(1, len(open_stages) + 1)] + [o.stage]
            t = o.created_at
            end = o.closed_at or now
            step = (end - t) / max(len(path), 1)
            for k, s in enumerate(path):
                left = t + step if k < len(path) - 1 else None
                history.append(StageHistory(opportunity=o, stage=s, entered_at=t,
                                            left_at=left))
                t = t + step
        StageHistory.objects.bulk_create(history)
        leads = []
        for _ in range(80):
            digits = f"13{rng.randrange(0, 10)}{rng.randrange(10**8):08d}"
            owner = rng.choice([users["sales1"], users["sales2"], users["manager"]])
            status = rng.choice(["new", "new", "qualified", "lost"])
            leads.append(Lead(
                name=rng.choice(LEAD_NAMES), company=rng.choice(COMPANIES),
                phone=format_phone(normalize_phone(digits)[0]), phone_digits=digits,
                province=rng.choice(["上海市", "江苏省", "北京市", "浙江省", "河北省"]),
                source=rng.choice(["web_form", "event", "referral", "api"]),
                campaign=rng.choice(["", "双11", "春季展会"]), status=status,
                lost_reason="暂无需求" if status == "lost" else "",
                marketing_consent=rng.random() < 0.5, owner=owner, team_id=owner.team_id,
                created_at=now - dt.timedelta(days=rng.randrange(0, 60))))
        Lead.objects.bulk_create(leads)
        month = timezone.localdate().replace(day=1)
        for k in range(6):
            m = (month + dt.timedelta(days=32 * k)).replace(day=1)
            for team_id in {c["team_id"] for c in customers if c["team_id"]}:
                SalesTarget.objects.get_or_create(month=m, team_id=team_id, owner=None,
                                                  defaults={"amount": Decimal("600000")})
    stdout.write(f"Created {len(opps)} demo opportunities and {len(leads)} leads.")
