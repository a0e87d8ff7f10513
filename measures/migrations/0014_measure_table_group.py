from django.db import migrations, models

HELP = (
    "Splits its section's tables: the measures of one group get tables of their own, titled "
    'with the group (e.g. "Adult Rape") and printed under the Key Headlines heading that '
    "names it; blank = the section's own tables."
)


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0013_plan_organisation"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmeasure",
            name="table_group",
            field=models.CharField(blank=True, help_text=HELP, max_length=200),
        ),
        migrations.AddField(
            model_name="measure",
            name="table_group",
            field=models.CharField(blank=True, help_text=HELP, max_length=200),
        ),
    ]
