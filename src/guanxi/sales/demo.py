"""Demo sales data for ``guanxi demo``: product categories and about 30 products with Chinese
names (VAT rates from the tax-rate table), monthly exchange rates for USD, EUR and HKD, and two
years of orders for the demo customers ending today, with returns and refunds.

The orders look like a real shop's: a Chinese New Year dip and 618 and Double 11 peaks; some
customers join late, some lapse (no order in their last months), some grow; spend is
Pareto-shaped (a log-normal customer value), so about a fifth of the customers bring about
four fifths of the revenue. Every order goes through the import service (the bulk path, one
audit record per order) as the ``system`` actor; each order's owner is its customer's owner.
Loading twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.core.access import Actor

WINDOW_DAYS = 730
SOURCE = "demo"
CENT = Decimal("0.01")

# code, name, category, list price (CNY), unit cost, VAT code, unit
PRODUCTS: list[tuple[str, str, str, str, str, str, str]] = [
    ("TEA-LJ250", "西湖龙井 250g", "茶叶", "298", "150", "vat13", "盒"),
    ("TEA-TGY500", "安溪铁观音 500g", "茶叶", "168", "80", "vat13", "罐"),
    ("TEA-PE357", "云南普洱茶饼 357g", "茶叶", "228", "110", "vat13", "饼"),
    ("TEA-DHP200", "武夷山大红袍 200g", "茶叶", "398", "190", "vat13", "盒"),
    ("TEA-SET", "青瓷茶具套装", "茶叶", "588", "260", "vat13", "套"),
    ("HA-AIR", "空气净化器", "家用电器", "1999", "1200", "vat13", "台"),
    ("HA-ROBOT", "扫地机器人", "家用电器", "2499", "1500", "vat13", "台"),
    ("HA-RICE", "智能电饭煲", "家用电器", "599", "330", "vat13", "台"),
    ("HA-BLEND", "破壁料理机", "家用电器", "899", "480", "vat13", "台"),
    ("HA-KETTLE", "电热水壶", "家用电器", "159", "70", "vat13", "个"),
    ("DG-EAR", "蓝牙耳机", "数码产品", "399", "210", "vat13", "副"),
    ("DG-WATCH", "智能手表", "数码产品", "1299", "760", "vat13", "块"),
    ("DG-POWER", "移动电源 20000mAh", "数码产品", "129", "55", "vat13", "个"),
    ("DG-TAB", "平板电脑 11 英寸", "数码产品", "3299", "2300", "vat13", "台"),
    ("DG-KEY", "机械键盘", "数码产品", "499", "250", "vat13", "把"),
    ("FD-RICE5", "五常大米 5kg", "食品", "88", "52", "vat9", "袋"),
    ("FD-FUNGUS", "东北黑木耳 250g", "食品", "59", "30", "vat9", "袋"),
    ("FD-HAM", "金华火腿礼盒", "食品", "368", "200", "vat13", "盒"),
    ("FD-NUTS", "每日坚果礼盒", "食品", "199", "105", "vat13", "盒"),
    ("FD-OIL5", "花生油 5L", "食品", "79", "50", "vat9", "桶"),
    ("OF-A4", "A4 复印纸（5 包）", "办公用品", "135", "90", "vat13", "箱"),
    ("OF-PEN", "中性笔（12 支）", "办公用品", "25", "11", "vat13", "盒"),
    ("OF-CHAIR", "人体工学办公椅", "办公用品", "899", "520", "vat13", "把"),
    ("OF-CAB", "钢制文件柜", "办公用品", "1280", "800", "vat13", "个"),
    ("OF-SHRED", "碎纸机", "办公用品", "699", "400", "vat13", "台"),
    ("SV-INSTALL", "上门安装服务", "服务", "150", "60", "vat6", "次"),
    ("SV-WARRANTY", "延长保修一年", "服务", "299", "40", "vat6", "份"),
    ("SV-CONSULT", "企业咨询服务（一天）", "服务", "5000", "2500", "vat6", "天"),
    ("SV-MEMBER", "会员年费", "服务", "199", "20", "vat6", "年"),
    ("BK-CRM", "《客户关系管理》教材", "图书", "59", "32", "vat9", "本"),
]
PERSON_CATEGORIES = ["茶叶", "家用电器", "数码产品", "食品", "图书", "服务"]
ORG_CATEGORIES = ["办公用品", "服务", "家用电器", "数码产品", "茶叶"]
PERSON_CHANNELS = ["天猫", "京东", "微信小程序", "门店", "抖音小店"]
ORG_CHANNELS = ["销售代表", "企业采购平台"]
# CNY per unit at the start of the window, and a gentle drift per month.
FX = {"USD": (Decimal("7.10"), 0.0012), "EUR": (Decimal("7.75"), 0.0020),
      "HKD": (Decimal("0.9080"), 0.0010)}
# Spring Festival (the Chinese New Year's day) of the years the demo can span.
SPRING_FESTIVAL = [dt.date(2023, 1, 22), dt.date(2024, 2, 10), dt.date(2025, 1, 29),
                   dt.date(2026, 2, 17), dt.date(2027, 2, 6), dt.date(2028, 1, 26),
                   dt.date(2029, 2, 13), dt.date(2030, 2, 3)]


def seasonality(day: dt.date) -> float:
    """How busy a day is compared with an ordinary one: a dip around the Spring Festival,
    peaks for 618 (June 18) and Double 11 (November 11), a smaller one for Double 12."""
    for festival in SPRING_FESTIVAL:
        if -7 <= (day - festival).days <= 10:
            return 0.3
    if day.month == 6 and 1 <= day.day <= 18:
        return 3.5 if day.day == 18 else 1.7
    if day.month == 11 and 1 <= day.day <= 11:
        return 5.0 if day.day == 11 else 2.0
    if day.month == 12 and day.day == 12:
        return 2.0
    return 1.0


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ensure_products(stdout=None) -> dict[str, Any]:
    """Categories and products (idempotent); returns the products by SKU."""
    from guanxi.sales.models import Product, ProductCategory, TaxRate

    rates = {t.code: t for t in TaxRate.objects.all()}
    out = {}
    with transaction.atomic():
        categories = {name: ProductCategory.objects.get_or_create(name=name)[0]
                      for name in dict.fromkeys(p[2] for p in PRODUCTS)}
        for sku, name, category, price, cost, vat, unit in PRODUCTS:
            product, _ = Product.objects.get_or_create(sku=sku, defaults={
                "name": name, "category": categories[category], "list_price": Decimal(price),
                "cost": Decimal(cost), "tax_rate": rates[vat], "unit": unit,
                "product_line": category})
            out[sku] = product
    return out


def ensure_exchange_rates(actor: Actor, today: dt.date) -> dict[str, list[tuple[dt.date,
                                                                                Decimal]]]:
    """A rate on the first of every month from before the window to today (through the
    exchange-rate service, so each is audited)."""
    from guanxi.sales.models import ExchangeRate
    from guanxi.sales.services.fx import exchange_rate_set

    first = (today - dt.timedelta(days=WINDOW_DAYS + 31)).replace(day=1)
    months = []
    day = first
    while day <= today:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    have = set(ExchangeRate.objects.filter(valid_from__gte=first).values_list("currency",
                                                                             "valid_from"))
    table: dict[str, list[tuple[dt.date, Decimal]]] = {}
    rng = random.Random(7)
    for currency, (start, drift) in FX.items():
        rows = []
        for i, month in enumerate(months):
            wobble = 1 + drift * i + rng.uniform(-0.006, 0.006)
            rate = (start * Decimal(str(wobble))).quantize(Decimal("0.0001"))
            if (currency, month) not in have:
                exchange_rate_set(actor=actor, currency=currency, valid_from=month, rate=rate)
            rows.append((month, rate))
        table[currency] = rows
    return table


def _rate_on(table: list[tuple[dt.date, Decimal]], day: dt.date) -> Decimal:
    rate = table[0][1]
    for valid_from, value in table:
        if valid_from <= day:
            rate = value
    return rate


def order_rows(customers: list[tuple[int, str, str]], products: dict[str, Any],
               rates: dict[str, list[tuple[dt.date, Decimal]]], *, seed: int,
               today: dt.date) -> list[dict[str, Any]]:
    """The demo orders for ``customers`` (id, kind, name) as import rows, deterministic for a
    seed."""
    import numpy as np

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    tz = timezone.get_current_timezone()
    start = today - dt.timedelta(days=WINDOW_DAYS - 1)
    days = [start + dt.timedelta(days=i) for i in range(WINDOW_DAYS)]
    season = np.array([seasonality(d) for d in days])
    by_category: dict[str, list[Any]] = {}
    for sku, _name, category, *_rest in PRODUCTS:
        by_category.setdefault(category, []).append(products[sku])
    rows: list[dict[str, Any]] = []
    now = timezone.now()
    for cid, kind, name in customers:
        org = kind == "organisation"
        value = float(nprng.lognormal(0.0, 1.55))
        first = 0 if rng.random() < 0.65 else rng.randrange(WINDOW_DAYS - 30)
        last = WINDOW_DAYS - 1
        pattern = rng.random()
        if pattern < 0.22:  # lapsing: stops buying months before today
            last = rng.randrange(min(first + 60, WINDOW_DAYS - 200), WINDOW_DAYS - 150)
        span = np.arange(first, last + 1)
        trend = np.ones(len(span))
        if 0.22 <= pattern < 0.42:  # growing: buys more and more often
            trend = np.linspace(0.3, 2.2, len(span))
        per_year = min(40.0, 2.6 * value ** 0.45) * (1.4 if org else 1.0)
        weights = season[span] * trend
        expected = per_year / 365.0 * float(weights.sum())
        count = int(nprng.poisson(expected))
        if count == 0:
            continue
        chosen = np.sort(nprng.choice(span, size=count, p=weights / weights.sum()))
        basket = 260.0 * value ** 0.55 * (4.0 if org else 1.0)
        categories = rng.sample(ORG_CATEGORIES if org else PERSON_CATEGORIES, 3)
        foreign = org and name.isascii() and rng.random() < 0.8
        currency = rng.choice(["USD", "EUR", "HKD"]) if foreign else "CNY"
        for n, index in enumerate(chosen):
            day = days[int(index)]
            moment = dt.datetime.combine(day, dt.time(rng.randrange(8, 23), rng.randrange(60)),
                                         tzinfo=tz)
            if moment > now:
                moment = now - dt.timedelta(minutes=rng.randrange(5, 120))
            k = 1 + min(4, int(nprng.poisson(1.2 if org else 0.6)))
            per_line = basket * rng.uniform(0.6, 1.5) / k
            lines, taken = [], set()
            for _ in range(k):
                pool = [p for p in by_category[rng.choice(categories)] if p.sku not in taken]
                if not pool:
                    continue
                fits = [p for p in pool if float(p.list_price) <= per_line * 2] or \
                    [min(pool, key=lambda p: p.list_price)]
                product = rng.choice(fits)
                taken.add(product.sku)
                quantity = max(1, min(500 if org else 20,
                                      round(per_line / float(product.list_price))))
                price = product.list_price * Decimal(rng.choice(["1", "1", "0.95", "0.9"]))
                cost = product.cost
                if currency != "CNY":
                    rate = _rate_on(rates[currency], day)
                    price, cost = price / rate, cost / rate
                lines.append({"sku": product.sku, "quantity": Decimal(quantity),
                              "unit_price": _money(price), "unit_cost": _money(cost),
                              "description": "", "tax_rate": None})
            age = (today - day).days
            status, payment = "completed", "paid"
            if age <= 30:
                status = rng.choice(["confirmed", "shipped", "completed"])
                payment = rng.choice(["unpaid", "partial", "paid"]) if status == "confirmed" \
                    else "paid"
            if rng.random() < 0.03:
                status, payment = "cancelled", "unpaid"
            rows.append({
                "source": SOURCE, "external_id": f"DEMO-{cid}-{n:04d}", "customer_id": cid,
                "ordered_at": moment, "currency": currency,
                "channel": rng.choice(ORG_CHANNELS if org else PERSON_CHANNELS),
                "status": status, "payment_status": payment, "lines": lines,
            })
    return rows


def load(*, users: dict[str, Any], seed: int = 42, stdout=None) -> None:
    """Load the demo's products, exchange rates and orders (idempotent)."""
    from guanxi.customers.models import Customer
    from guanxi.sales.models import Order
    from guanxi.sales.services import orders as order_services

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text)

    actor = Actor.system(channel="system")
    today = timezone.localdate()
    products = ensure_products()
    rates = ensure_exchange_rates(actor, today)
    if Order.objects.filter(source=SOURCE).exists():
        say(f"Demo orders already present ({Order.objects.filter(source=SOURCE).count()}).")
        return
    customers = list(Customer.objects.order_by("id").values_list("id", "kind", "name"))
    rows = order_rows(customers, products, rates, seed=seed, today=today)
    created = 0
    for begin in range(0, len(rows), 2000):
        result = order_services.orders_import(actor=actor, rows=rows[begin:begin + 2000],
                                              batch_size=2000)
        if result.errors:
            raise RuntimeError(f"demo orders refused: {result.errors[:3]}")
        created += result.created
    returns = _returns(actor, seed=seed, today=today)
    say(f"Created {len(products)} products, {created} demo orders "
        f"({sum(len(r['lines']) for r in rows)} lines) and {returns} returns or refunds "
        f"over two years.")


def _returns(actor: Actor, *, seed: int, today: dt.date) -> int:
    """About 4% of completed orders come back in part or whole; about 2% get a partial
    refund (price protection, a late delivery)."""
    from guanxi.sales.models import Order
    from guanxi.sales.services.orders import return_create

    rng = random.Random(seed + 1)
    now = timezone.now()
    rows = list(Order.objects.filter(source=SOURCE, status="completed").order_by("id")
                .values_list("id", "total", "ordered_at"))
    count = 0
    for order_id, total, ordered_at in rows:
        roll = rng.random()
        if roll >= 0.06:
            continue
        at = ordered_at + dt.timedelta(days=rng.randrange(2, 20), hours=rng.randrange(0, 8))
        if at > now:
            at = now
        if roll < 0.04:
            share = Decimal("1") if rng.random() < 0.4 else Decimal(str(rng.choice(
                [0.25, 0.33, 0.5])))
            kind, reason = "return", rng.choice(["质量问题", "七天无理由退货", "发错货", "尺寸不合适"])
        else:
            share = Decimal(str(rng.choice([0.05, 0.1, 0.2])))
            kind, reason = "refund", rng.choice(["价保退差价", "延迟发货补偿", "优惠券补发"])
        amount = _money(total * share)
        if amount <= 0:
            continue
        return_create(actor=actor, order_id=order_id, kind=kind, amount=amount, reason=reason,
                      at=at, external_id=f"DEMO-R{order_id}")
        count += 1
    return count


def pareto_share(revenue: list[float], top: float = 0.2) -> float:
    """The share of revenue the top ``top`` of customers bring (for checks and tests)."""
    values = sorted((v for v in revenue if v > 0), reverse=True)
    if not values:
        return 0.0
    cut = max(1, math.ceil(len(values) * top))
    return sum(values[:cut]) / sum(values)
