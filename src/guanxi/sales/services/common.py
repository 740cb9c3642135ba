"""Shared rules of sales documents: money rounding, currency conversion, numbering."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from guanxi.core.exceptions import ValidationError
from guanxi.sales.models import ExchangeRate

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (as Chinese invoices do)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cny(amount: Decimal, currency: str, on: dt.date | None = None, *,
           field: str = "currency") -> Decimal:
    """``amount`` in CNY with the rate valid on ``on`` (the latest rate on or before it)."""
    if currency == "CNY":
        return money(amount)
    on = on or timezone.localdate()
    rate = (ExchangeRate.objects.filter(currency=currency, valid_from__lte=on)
            .order_by("-valid_from").values_list("rate", flat=True).first())
    if rate is None:
        raise ValidationError({field: [f"No exchange rate for {currency} on or before "
                                       f"{on.isoformat()}: add one under Settings."]})
    return money(amount * rate)


def next_number(prefix: str, model, field: str = "number") -> str:
    """The next document number ``PREFIX-YYYYMM-00001`` for this month (unique by constraint;
    two writers racing for one number: the loser retries). Past 99,999 a month the number
    grows a digit; the longest number sorts first, so ``-100000`` follows ``-99999`` on every
    database (as text alone it would sort below it)."""
    month = timezone.localdate().strftime("%Y%m")
    stem = f"{prefix}-{month}-"
    with transaction.atomic():
        last = (model.objects.filter(**{f"{field}__startswith": stem})
                .annotate(number_length=Length(field))
                .order_by("-number_length", f"-{field}").values_list(field, flat=True).first())
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:05d}"
