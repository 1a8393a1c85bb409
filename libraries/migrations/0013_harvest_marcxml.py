from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("libraries", "0012_reading_positions")]

    operations = [
        migrations.RemoveConstraint(
            model_name="harvestsource",
            name="harvestsource_prefix_known",
        ),
        migrations.AlterField(
            model_name="harvestsource",
            name="metadata_prefix",
            field=models.CharField(
                choices=[
                    ("marc21", "MARC21 (MARCXML with holdings: records and copies)"),
                    ("marcxml", "MARCXML (Koha's older name for MARC21, with holdings)"),
                    ("oai_dc", "Dublin Core (records only, no copies)"),
                ],
                default="marc21",
                max_length=10,
                verbose_name="format",
            ),
        ),
        migrations.AddConstraint(
            model_name="harvestsource",
            constraint=models.CheckConstraint(
                condition=models.Q(("metadata_prefix__in", ["marc21", "marcxml", "oai_dc"])),
                name="harvestsource_prefix_known",
            ),
        ),
    ]
