"""manage.py backup and restore (training_site/management/commands/): the demo backed up and
restored into a new PostgreSQL database holds every row of every table (counts and a checksum
of the rows), the same sequences and the same files; a restore is refused, with nothing
changed, into a database or media folder in use, from a backup that no longer matches its
manifest, or from a newer site; SQLite is refused with a message that says what to do."""

import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from psycopg import sql

from tests.factories import LibraryFactory, UserFactory
from tests.fixture_files import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
MARC = FIXTURES / "marc" / "marc4j_brkrtest_UTF8.mrc"


def url_of(name: str) -> str:
    d = connection.settings_dict
    credentials = quote(d["USER"] or "", safe="")
    if d["PASSWORD"]:
        credentials += ":" + quote(d["PASSWORD"], safe="")
    return f"postgres://{credentials}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{name}"


def connect(name: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url_of(name), **kwargs)


@pytest.fixture
def new_database():
    """An empty PostgreSQL database beside the test database, dropped afterwards."""
    name = f"kb_restore_{uuid.uuid4().hex[:12]}"
    with connect("postgres", autocommit=True) as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect("postgres", autocommit=True) as server:
        server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def table_states(name: str) -> dict[str, tuple[int, str]]:
    """Every table of the public schema: its row count and the md5 of all its rows."""
    with connect(name) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        states = {}
        for table in tables:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                " FROM {} AS t"
            ).format(sql.Identifier(table))
            states[table] = tuple(db.execute(query).fetchone())
        return states


def sequence_values(name: str) -> dict[str, int | None]:
    with connect(name) as db:
        return dict(
            db.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )


def files_with_digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def manage(*arguments: str, database: str, media: Path, private: Path):
    """manage.py as an operator runs it on the restoring machine: production settings."""
    environ = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    environ.update(
        DJANGO_SETTINGS_MODULE="training_site.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=url_of(database),
        MEDIA_ROOT=str(media),
        PRIVATE_MEDIA_ROOT=str(private),
    )
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


def keep_a_private_file() -> str:
    """A MARC file waiting for its import job, as private storage holds one."""
    return storages["private"].save(
        f"marc-imports/{uuid.uuid4().hex}", ContentFile(MARC.read_bytes())
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_demo_restores_into_a_new_database_with_every_row(tmp_path, new_database):
    call_command("load_demo", h5p_dir=FIXTURES / "h5p", stdout=io.StringIO())
    private_name = keep_a_private_file()
    backup = tmp_path / "backup"
    call_command("backup", output=backup, stdout=io.StringIO())

    manifest = json.loads((backup / "manifest.json").read_text())
    assert sorted(os.listdir(backup)) == [
        "database.dump",
        "manifest.json",
        "media.tar",
        "private.tar",
    ]
    for name, recorded in manifest["files"].items():
        content = (backup / name).read_bytes()
        assert recorded["sha256"] == hashlib.sha256(content).hexdigest()
        assert recorded["bytes"] == len(content)
    source_media = files_with_digests(Path(settings.MEDIA_ROOT))
    source_private = files_with_digests(Path(settings.PRIVATE_MEDIA_ROOT))
    assert manifest["files"]["media.tar"]["files"] == len(source_media) > 0
    assert manifest["files"]["private.tar"]["files"] == len(source_private) >= 1
    applied = MigrationRecorder(connection).applied_migrations()
    assert sorted((a, n) for a, names in manifest["migrations"].items() for n in names) == sorted(
        applied
    )
    assert (manifest["format"], manifest["database"]["vendor"]) == (1, "postgresql")
    assert (backup.stat().st_mode & 0o777, (backup / "database.dump").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )

    media, private = tmp_path / "restored-media", tmp_path / "restored-private"
    restored = manage("restore", str(backup), database=new_database, media=media, private=private)
    assert restored.returncode == 0, restored.stderr
    assert "Đã khôi phục bản sao lưu lúc" in restored.stdout

    source = table_states(connection.settings_dict["NAME"])
    assert table_states(new_database) == source
    assert source["libraries_library"][0] == 10 and source["training_site_user"][0] == 18
    assert sequence_values(new_database) == sequence_values(connection.settings_dict["NAME"])
    assert files_with_digests(media) == source_media
    assert files_with_digests(private) == source_private
    assert private_name in files_with_digests(private)
    check = manage("migrate", "--check", database=new_database, media=media, private=private)
    assert check.returncode == 0, check.stdout + check.stderr

    # A second restore into the same database (in use now) is refused; nothing changes.
    other_media, other_private = tmp_path / "other-media", tmp_path / "other-private"
    again = manage(
        "restore", str(backup), database=new_database, media=other_media, private=other_private
    )
    assert again.returncode == 1
    assert f"Cơ sở dữ liệu {new_database} đã có dữ liệu (" in again.stderr
    assert "Chưa khôi phục gì cả." in again.stderr
    assert table_states(new_database) == source
    assert not other_media.exists() and not other_private.exists()


@pytest.fixture
def small_backup(tmp_path):
    """A backup of a few rows and files, for the refusals."""
    LibraryFactory.create_batch(2)
    UserFactory()
    (Path(settings.MEDIA_ROOT) / "images").mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "images" / "bia.txt").write_text("Bìa sách")
    keep_a_private_file()
    backup = tmp_path / "backup"
    call_command("backup", output=backup, stdout=io.StringIO())
    return backup


def public_tables(name: str) -> list[str]:
    with connect(name) as db:
        return [
            r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("tamper", ["database.dump", "media.tar", "manifest sha256", "missing"])
def test_a_backup_that_does_not_match_its_manifest_restores_nothing(
    tmp_path, small_backup, new_database, tamper
):
    if tamper == "manifest sha256":
        manifest = json.loads((small_backup / "manifest.json").read_text())
        manifest["files"]["private.tar"]["sha256"] = "0" * 64
        (small_backup / "manifest.json").write_text(json.dumps(manifest))
        problem = "mã sha256 của private.tar khác"
    elif tamper == "missing":
        (small_backup / "media.tar").unlink()
        problem = "thiếu media.tar"
    else:
        path = small_backup / tamper
        content = bytearray(path.read_bytes())
        content[len(content) // 2] ^= 0xFF  # same size, one byte changed
        path.write_bytes(bytes(content))
        problem = f"mã sha256 của {tamper} khác"
    media, private = tmp_path / "restored-media", tmp_path / "restored-private"
    result = manage(
        "restore", str(small_backup), database=new_database, media=media, private=private
    )
    assert result.returncode == 1
    assert f"Bản sao lưu không khớp với bản kê: {problem}. Chưa khôi phục gì cả." in result.stderr
    assert public_tables(new_database) == []
    assert not media.exists() and not private.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_media_folder_in_use_or_a_newer_backup_restores_nothing(
    tmp_path, small_backup, new_database
):
    media, private = tmp_path / "restored-media", tmp_path / "restored-private"
    private.mkdir()
    (private / "kept.txt").write_text("already here")
    result = manage(
        "restore", str(small_backup), database=new_database, media=media, private=private
    )
    assert result.returncode == 1
    assert f"{private} đã có tệp: chỉ khôi phục vào các thư mục tệp tải lên còn trống." in (
        result.stderr
    )
    assert public_tables(new_database) == []
    assert files_with_digests(private) == {"kept.txt": hashlib.sha256(b"already here").hexdigest()}
    assert not media.exists()

    (private / "kept.txt").unlink()
    manifest = json.loads((small_backup / "manifest.json").read_text())
    manifest["migrations"]["libraries"].append("9999_from_the_future")
    (small_backup / "manifest.json").write_text(json.dumps(manifest))
    result = manage(
        "restore", str(small_backup), database=new_database, media=media, private=private
    )
    assert result.returncode == 1
    assert (
        "Bản sao lưu này đến từ phiên bản mới hơn của trang "
        "(các migration libraries.9999_from_the_future không có ở đây)"
    ) in result.stderr
    assert public_tables(new_database) == []
    assert files_with_digests(private) == {} and not media.exists()


def test_sqlite_is_refused_with_a_way_out(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(
        DJANGO_SETTINGS_MODULE="training_site.settings.dev",
        DATABASE_URL=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
    )
    output = tmp_path / "backup"
    result = subprocess.run(
        [sys.executable, "manage.py", "backup", "--output", str(output)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        "Sao lưu cần PostgreSQL (pg_dump và pg_restore); cơ sở dữ liệu của trang này là sqlite."
    ) in result.stderr
    assert "sqlite3 db.sqlite3 '.backup copy.sqlite3'" in result.stderr
    assert not output.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_never_writes_into_a_folder_in_use(tmp_path):
    output = tmp_path / "backup"
    output.mkdir()
    (output / "manifest.json").write_text("{}")
    with pytest.raises(CommandError, match="không phải thư mục trống"):
        call_command("backup", output=output)
    assert os.listdir(output) == ["manifest.json"]
    assert (output / "manifest.json").read_text() == "{}"
