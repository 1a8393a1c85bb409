"""python manage.py backup --output DIR

A backup that restores (docs/OPERATIONS.md): a PostgreSQL dump in pg_dump's custom format (one
consistent snapshot), the uploaded files of MEDIA_ROOT and PRIVATE_MEDIA_ROOT as two tar files,
and manifest.json with each file's size and sha256, the applied migrations, the time and the
site's version. `manage.py restore DIR` checks the manifest before it touches anything.

Files kept in object storage (MEDIA_STORAGE=s3) are not copied: the manifest names their buckets
and the command says so; the buckets' versioning and replication keep them (docs/SCALING.md).
"""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import django
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from training_site.observability import site_version

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_DUMP = "database.dump"
# tar file name -> the setting naming the folder it holds
MEDIA_ARCHIVES = {"media.tar": "MEDIA_ROOT", "private.tar": "PRIVATE_MEDIA_ROOT"}
# tar file name -> the storage alias whose files it holds
ARCHIVE_STORAGES = {"media.tar": "default", "private.tar": "private"}
# Files /healthz writes and deletes at once in each storage: never part of a backup.
PROBE_PREFIX = ".healthz-"
# libpq's environment variables for the OPTIONS a DATABASE_URL may carry.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


def require_postgresql(alias: str) -> dict:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise CommandError(
            _(
                "Backups need PostgreSQL (pg_dump and pg_restore); this site's database is "
                "%(vendor)s. Set DATABASE_URL to a PostgreSQL database, or copy the SQLite file "
                "with sqlite3's own backup: sqlite3 db.sqlite3 '.backup copy.sqlite3'"
            )
            % {"vendor": connection.vendor}
        )
    return connection.settings_dict


def libpq_environment(database: dict) -> dict[str, str]:
    """The environment that points pg_dump / pg_restore at `database` (no password on the
    command line, where other users of the machine could read it)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
    }
    for option, variable in LIBPQ_OPTIONS.items():
        values[variable] = (database.get("OPTIONS") or {}).get(option)
    environ.update({name: str(value) for name, value in values.items() if value})
    return environ


def run_client(program: str, arguments: list[str], database: dict) -> None:
    """Run pg_dump or pg_restore; their own message on failure."""
    executable = shutil.which(program)
    if executable is None:
        raise CommandError(
            _("%(program)s is not installed (Debian: apt-get install postgresql-client).")
            % {"program": program}
        )
    result = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [executable, *arguments],
        env=libpq_environment(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(
            _("%(program)s failed: %(message)s")
            % {"program": program, "message": result.stderr.strip()}
        )


def file_digest(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def stored_files(root: Path):
    """Every regular file under `root` (relative paths, sorted), without /healthz's probes."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if not name.startswith(PROBE_PREFIX) and path.is_file() and not path.is_symlink():
                yield path.relative_to(root)


def object_storage_of(archive: str) -> str | None:
    """Where the files of `archive` live when they are not in a folder of this machine
    (s3://bucket/prefix), else None."""
    storage = storages[ARCHIVE_STORAGES[archive]]
    if isinstance(storage, FileSystemStorage):
        return None
    bucket = getattr(storage, "bucket_name", None)
    if not bucket:
        return type(storage).__name__
    return f"s3://{bucket}/{getattr(storage, 'location', '')}".rstrip("/")


def write_archive(archive: Path, root: Path) -> int:
    """`root`'s files into an uncompressed tar (media are mostly compressed already)."""
    count = 0
    descriptor = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w") as tar:
        for relative in stored_files(root):
            tar.add(root / relative, arcname=relative.as_posix(), recursive=False)
            count += 1
    return count


def applied_migrations(alias: str) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connections[alias]).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


class Command(BaseCommand):
    help = "Back up the PostgreSQL database and the uploaded files into DIR, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="a new or empty folder")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        alias = options["database"]
        database = require_postgresql(alias)
        output: Path = options["output"].resolve()
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise CommandError(
                _("%(folder)s is not an empty folder: each backup needs a folder of its own.")
                % {"folder": output}
            )
        created = not output.exists()
        output.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            manifest = self.write_backup(output, alias, database)
        except BaseException:
            for name in [MANIFEST, DATABASE_DUMP, *MEDIA_ARCHIVES]:
                (output / name).unlink(missing_ok=True)
            if created:
                output.rmdir()
            raise
        files = manifest["files"]
        elsewhere = manifest.get("object_storage", {})
        if elsewhere:
            self.stdout.write(
                _(
                    "The uploaded files are in object storage (%(buckets)s), not in this backup: "
                    "the buckets' versioning and replication keep them (docs/SCALING.md)."
                )
                % {"buckets": ", ".join(elsewhere.values())}
            )
        self.stdout.write(
            _(
                "Backup written to %(folder)s: database %(dump)d bytes, %(media)d public and "
                "%(private)d private files."
            )
            % {
                "folder": output,
                "dump": files[DATABASE_DUMP]["bytes"],
                "media": files.get("media.tar", {}).get("files", 0),
                "private": files.get("private.tar", {}).get("files", 0),
            }
        )

    def write_backup(self, output: Path, alias: str, database: dict) -> dict:
        created_at = timezone.now()
        migrations = applied_migrations(alias)
        connections[alias].ensure_connection()
        server_version = connections[alias].pg_version
        dump = output / DATABASE_DUMP
        # One snapshot of the whole database, whatever runs meanwhile.
        run_client("pg_dump", ["--format=custom", f"--file={dump}"], database)
        dump.chmod(0o600)
        files = {DATABASE_DUMP: file_digest(dump)}
        elsewhere = {}
        for archive, setting in MEDIA_ARCHIVES.items():
            where = object_storage_of(archive)
            if where is not None:  # a tar of an empty local folder would hide that
                elsewhere[archive] = where
                continue
            count = write_archive(output / archive, Path(getattr(settings, setting)))
            files[archive] = {**file_digest(output / archive), "files": count}
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "site_version": site_version(Path(settings.BASE_DIR)),
            "django": django.get_version(),
            "database": {
                "vendor": "postgresql",
                "server_version": server_version,
                "name": database["NAME"],
            },
            "migrations": migrations,
            "files": files,
        }
        if elsewhere:
            manifest["object_storage"] = elsewhere
        descriptor = os.open(output / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(manifest, file, indent=2, ensure_ascii=False)
            file.write("\n")
        return manifest
