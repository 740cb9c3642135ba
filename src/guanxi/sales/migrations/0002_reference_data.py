"""Reference data: China's VAT rates, the default pipeline, the sales grants of the shipped
roles (data only; schema in 0001)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from guanxi.core.roles import ensure_default_roles
    from guanxi.sales.reference import ensure_reference_data

    ensure_reference_data(apps.get_model("sales", "TaxRate"), apps.get_model("sales", "Pipeline"),
                          apps.get_model("sales", "Stage"))
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
