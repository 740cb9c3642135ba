from django.db import migrations


def forwards(apps, schema_editor):
    from guanxi.core.roles import ensure_default_roles

    ensure_default_roles(apps.get_model("core", "Role"), apps.get_model("core", "Grant"),
                         apps.get_model("core", "User"))


def backwards(apps, schema_editor):
    apps.get_model("core", "User").objects.filter(username="system").delete()
    apps.get_model("core", "Role").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
