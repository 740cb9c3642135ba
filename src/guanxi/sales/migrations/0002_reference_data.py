"""Reference data: China's VAT rates, the default pipeline, the sales grants of the shipped
roles (data only; schema in 0001)."""

from decimal import Decimal

from django.db import migrations

VAT = [("vat13", "增值税 13%", "0.13"), ("vat9", "增值税 9%", "0.09"),
       ("vat6", "增值税 6%", "0.06"), ("vat3", "小规模纳税人 3%", "0.03"),
       ("vat1", "小规模纳税人 1%", "0.01"), ("vat0", "零税率 0%", "0")]
STAGES = [("qualification", "初步接触", "0.10", False, False),
          ("needs", "需求分析", "0.25", False, False),
          ("proposal", "方案报价", "0.50", False, False),
          ("negotiation", "商务谈判", "0.75", False, False),
          ("won", "赢单", "1", True, False),
          ("lost", "输单", "0", False, True)]


def forwards(apps, schema_editor):
    from guanxi.core.roles import ensure_default_roles

    TaxRate = apps.get_model("sales", "TaxRate")
    for code, name, rate in VAT:
        TaxRate.objects.get_or_create(code=code, defaults={"name": name, "rate": Decimal(rate)})
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    pipeline, created = Pipeline.objects.get_or_create(name="销售漏斗 Sales",
                                                       defaults={"is_default": True})
    if created:
        for pos, (code, name, p, won, lost) in enumerate(STAGES, start=1):
            Stage.objects.create(pipeline=pipeline, code=code, name=name, position=pos,
                                 probability=Decimal(p), is_won=won, is_lost=lost)
    ensure_default_roles(apps.get_model("core", "Role"), apps.get_model("core", "Grant"),
                         apps.get_model("core", "User"))


def backwards(apps, schema_editor):
    apps.get_model("sales", "Stage").objects.all().delete()
    apps.get_model("sales", "Pipeline").objects.all().delete()
    apps.get_model("sales", "TaxRate").objects.all().delete()
    apps.get_model("core", "Grant").objects.filter(model__startswith="sales.").delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("core", "0003_alter_grant_action")]
    operations = [migrations.RunPython(forwards, backwards)]
