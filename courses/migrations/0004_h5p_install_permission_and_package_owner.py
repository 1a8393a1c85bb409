"""H5P library code is installed by network admins only (a permission of its own), and each
package belongs to the library that uploaded it. Packages from before belong to the network
(library left empty): only network admins manage them."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_classes"),
        ("libraries", "0005_catalog_search_speed"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="h5plibrary",
            options={
                "ordering": ["machine_name", "major_version", "minor_version"],
                "permissions": [("install_h5plibrary", "Can install or upgrade H5P libraries")],
                "verbose_name": "H5P library",
                "verbose_name_plural": "H5P libraries",
            },
        ),
        migrations.AddField(
            model_name="h5ppackage",
            name="library",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="h5p_packages",
                to="libraries.library",
                verbose_name="owner library",
            ),
        ),
    ]
