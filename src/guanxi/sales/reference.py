"""Reference data every installation starts with: China's VAT rates and the default
pipeline. Used by the data migration and by the demo (idempotent)."""

from __future__ import annotations

from decimal import Decimal

VAT = [("vat13", "增值税 13%", "0.13"), ("vat9", "增值税 9%", "0.09"),
       ("vat6", "增值税 6%", "0.06"), ("vat3", "小规模纳税人 3%", "0.03"),
       ("vat1", "小规模纳税人 1%", "0.01"), ("vat0", "零税率 0%", "0")]
STAGES = [("qualification", "初步接触", "0.10", False, False),
          ("needs", "需求分析", "0.25", False, False),
          ("proposal", "方案报价", "0.50", False, False),
          ("negotiation", "商务谈判", "0.75", False, False),
          ("won", "赢单", "1", True, False),
          ("lost", "输单", "0", False, True)]


def ensure_reference_data(TaxRate, Pipeline, Stage) -> None:  # noqa: N803 (model classes)
    for code, name, rate in VAT:
        TaxRate.objects.get_or_create(code=code, defaults={"name": name, "rate": Decimal(rate)})
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="销售漏斗 Sales", is_default=True)
        for pos, (code, name, p, won, lost) in enumerate(STAGES, start=1):
            Stage.objects.create(pipeline=pipeline, code=code, name=name, position=pos,
                                 probability=Decimal(p), is_won=won, is_lost=lost)


def ensure() -> None:
    from guanxi.sales.models import Pipeline, Stage, TaxRate

    ensure_reference_data(TaxRate, Pipeline, Stage)
