import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    """Events name their object, and an immutable object (a payment) is rendered when first sent."""

    dependencies = [
        ("bank", "0009_outbox_and_periodic_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="subject_type",
            field=models.CharField(
                default="", help_text="The changed object's model (app_label.model).", max_length=60
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="event",
            name="subject_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="event",
            name="data",
            field=models.JSONField(
                blank=True,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                help_text="The object as the API returns it: at the change, or (immutable objects) when first sent.",
                null=True,
            ),
        ),
    ]
