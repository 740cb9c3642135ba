"""Exchange rates (administrators)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from guanxi.core import audit
from guanxi.core.access import Actor
from guanxi.core.exceptions import ValidationError
from guanxi.core.queries import require_admin
from guanxi.sales.models import Currency, ExchangeRate


def exchange_rate_set(*, actor: Actor, currency: str, valid_from: dt.date, rate: Decimal
                      ) -> ExchangeRate:
    require_admin(actor)
    if currency not in Currency.values or currency == "CNY":
        raise ValidationError({"currency": ["Choose a currency other than CNY."]})
    if rate <= 0:
        raise ValidationError({"rate": ["The rate must be positive."]})
    with transaction.atomic():
        obj, created = ExchangeRate.objects.update_or_create(
            currency=currency, valid_from=valid_from, defaults={"rate": rate})
        audit.record(actor, obj, "create" if created else "update",
                     changes={"rate": [None, str(rate)]})
    return obj
