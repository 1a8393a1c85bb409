"""MARC import files leave MEDIA_ROOT: they were public under their uploader's name.

Files of finished jobs are deleted (the job keeps its report); files of jobs still waiting
move to private storage under a generated name.
"""

import uuid

from django.core.files.storage import default_storage, storages
from django.db import migrations, models

import libraries.models.catalog


def move_out_of_media(apps, schema_editor):
    MarcImportJob = apps.get_model("libraries", "MarcImportJob")
    private = storages["private"]
    for job in MarcImportJob.objects.exclude(file="").only("pk", "file", "status"):
        old = job.file.name
        if not old.startswith("marc-imports/") or not default_storage.exists(old):
            continue  # already private (generated name) or gone
        if job.status in ("pending", "running"):
            with default_storage.open(old, "rb") as stream:
                new = private.save(f"marc-imports/{uuid.uuid4().hex}", stream)
        else:
            new = ""
        default_storage.delete(old)
        MarcImportJob.objects.filter(pk=job.pk).update(file=new)


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0005_catalog_search_speed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="marcimportjob",
            name="file",
            field=models.FileField(
                blank=True,
                storage=libraries.models.catalog.private_storage,
                upload_to=libraries.models.catalog.marc_import_name,
                verbose_name="file",
            ),
        ),
        migrations.RunPython(move_out_of_media, migrations.RunPython.noop),
    ]
