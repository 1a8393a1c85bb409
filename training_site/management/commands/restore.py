"""python manage.py restore DIR

Loads a backup written by `manage.py backup` into an empty database and empty media folders
(docs/OPERATIONS.md, the restore drill). Everything is checked before anything is written: every
file against the manifest's size and sha256, the migrations against this code, the database
(no rows in the site's own tables) and the media folders (no files). The database is restored
in one transaction: a failure leaves it as it was.
"""

import json
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _
from wagtail.models import Page

from training_site.management.commands.backup import (
    DATABASE_DUMP,
    FORMAT,
    MANIFEST,
    MEDIA_ARCHIVES,
    file_digest,
    object_storage_of,
    require_postgresql,
    run_client,
    stored_files,
)

# The site's own apps: a database with a row in any of their tables is in use.
SITE_APPS = ("training_site", "libraries", "courses")
NAMES_SHOWN = 5


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CommandError(
            _("%(folder)s holds no readable manifest.json: it is not a backup of this site.")
            % {"folder": folder}
        )
    elsewhere = manifest.get("object_storage", {}) if isinstance(manifest, dict) else None
    if not isinstance(elsewhere, dict) or not set(elsewhere) <= set(MEDIA_ARCHIVES):
        elsewhere = {"?": "?"}  # refused below
    expected = {DATABASE_DUMP, *MEDIA_ARCHIVES} - set(elsewhere)
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
        or set(manifest["files"]) != expected
    ):
        raise CommandError(
            _("%(folder)s/manifest.json is not a manifest this version can read.")
            % {"folder": folder}
        )
    return manifest


def verify_files(folder: Path, manifest: dict) -> None:
    for name, recorded in sorted(manifest["files"].items()):
        path = folder / name
        found = file_digest(path) if path.is_file() else None
        if found is None:
            problem = _(
                "The backup does not match its manifest: %(file)s is missing. Nothing was restored."
            )
        elif found["bytes"] != recorded.get("bytes"):
            problem = _(
                "The backup does not match its manifest: the size of %(file)s differs. "
                "Nothing was restored."
            )
        elif found["sha256"] != recorded.get("sha256"):
            problem = _(
                "The backup does not match its manifest: the sha256 of %(file)s differs. "
                "Nothing was restored."
            )
        else:
            continue
        raise CommandError(problem % {"file": name})


def unknown_migrations(manifest: dict) -> list[str]:
    """Migrations the backup's database has and this code does not (a newer site)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in sorted(manifest.get("migrations", {}).items())
        for name in names
        if (app, name) not in known
    ]


def tables_with_rows(alias: str) -> list[str]:
    """The site's tables that hold rows. Page types do not count: `migrate` itself creates the
    home page; a site in use always has users."""
    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    tables = sorted(
        {
            model._meta.db_table
            for label in SITE_APPS
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
            if model._meta.db_table in existing and not issubclass(model, Page)
        }
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        found = []
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def extract(archive: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        # The "data" filter refuses absolute paths, "..", links leaving the folder, devices.
        tar.extractall(root, filter="data")


class Command(BaseCommand):
    help = "Restore a backup of `manage.py backup` into an empty database and media folders."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="the backup's folder")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        alias = options["database"]
        database = require_postgresql(alias)
        folder: Path = options["folder"].resolve()
        manifest = read_manifest(folder)
        verify_files(folder, manifest)
        unknown = unknown_migrations(manifest)
        if unknown:
            raise CommandError(
                _(
                    "This backup comes from a newer version of the site (migrations %(names)s "
                    "are unknown here): restore it with that version."
                )
                % {"names": ", ".join(unknown[:NAMES_SHOWN])}
            )
        in_use = tables_with_rows(alias)
        if in_use:
            raise CommandError(
                _(
                    "The database %(name)s already holds data (%(tables)s): restore only into "
                    "an empty database. Nothing was restored."
                )
                % {"name": database["NAME"], "tables": ", ".join(in_use[:NAMES_SHOWN])}
            )
        roots = {
            archive: Path(getattr(settings, setting))
            for archive, setting in MEDIA_ARCHIVES.items()
            if archive in manifest["files"]
        }
        for archive in roots:
            if object_storage_of(archive) is not None:
                raise CommandError(
                    _(
                        "This backup holds uploaded files (%(archive)s) but this site keeps "
                        "them in object storage: restore with MEDIA_STORAGE unset, then copy the "
                        "folders into the buckets (docs/SCALING.md). Nothing was restored."
                    )
                    % {"archive": archive}
                )
        for root in roots.values():
            if next(stored_files(root), None) is not None:
                raise CommandError(
                    _(
                        "%(folder)s already holds files: restore only into empty media "
                        "folders. Nothing was restored."
                    )
                    % {"folder": root}
                )
        # Empty tables that `migrate` may have created are replaced by the backup's.
        connections[alias].close()
        run_client(
            "pg_restore",
            [
                "--no-owner",
                "--no-privileges",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={database['NAME']}",
                str(folder / DATABASE_DUMP),
            ],
            database,
        )
        for archive, root in roots.items():
            extract(folder / archive, root)
        self.stdout.write(
            _(
                "Restored the backup of %(created)s (site version %(version)s) into the "
                "database %(name)s, with %(media)d public and %(private)d private files. "
                "Run `manage.py migrate` if this code is newer than the backup."
            )
            % {
                "created": manifest.get("created_at", "?"),
                "version": manifest.get("site_version", "?"),
                "name": database["NAME"],
                "media": manifest["files"].get("media.tar", {}).get("files", 0),
                "private": manifest["files"].get("private.tar", {}).get("files", 0),
            }
        )
        elsewhere = manifest.get("object_storage", {})
        if elsewhere:
            self.stdout.write(
                _(
                    "The uploaded files were in object storage (%(buckets)s): they are not in "
                    "the backup; the buckets keep them."
                )
                % {"buckets": ", ".join(elsewhere.values())}
            )
