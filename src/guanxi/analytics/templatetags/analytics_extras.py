from django import template
from django.utils.translation import gettext, gettext_noop

register = template.Library()

# The churn model's reasons (engine/churn_model.py REASONS), marked for translation.
_REASONS = [
    gettext_noop("long since the last purchase"), gettext_noop("few purchases in the last year"),
    gettext_noop("low spend in the last year"), gettext_noop("a young relationship"),
    gettext_noop("usually buys rarely"), gettext_noop("overdue against their own rhythm"),
    gettext_noop("buying less often than before"), gettext_noop("spending less than before"),
    gettext_noop("purchase pattern suggests they have stopped (BG/NBD)"),
]


@register.filter
def reasons(values) -> str:
    """A customer's risk reasons in the user's language, joined."""
    return "; ".join(gettext(v) for v in values or [])


@register.filter
def rfm_label(code: str) -> str:
    """An RFM class code as its label in the user's language (重要价值客户 ...)."""
    from guanxi.analytics.views import class_label

    return class_label(code) if code else ""


@register.filter
def stage_label(code: str) -> str:
    """A lifecycle stage code as its label in the user's language."""
    from guanxi.customers.models import LifecycleStage

    return str(LifecycleStage(code).label) if code in LifecycleStage.values else code
