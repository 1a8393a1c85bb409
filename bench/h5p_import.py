"""Time H5P imports: validation and installation per fixture package.

    .venv/bin/python bench/h5p_import.py [--repeat N] [--fixtures DIR]

Uses the test settings with a throwaway SQLite database and media folder (or DATABASE_URL if
set, e.g. a scratch PostgreSQL database). For each package it prints the validation time,
the first install (libraries written) and the median of the repeats (libraries shared, only
content written).
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared/fixtures/h5p")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="kb-bench-h5p-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "training_site.settings.test"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MEDIA_ROOT = scratch / "media"
    call_command("migrate", verbosity=0)

    from courses.h5p.storage import install_package
    from courses.h5p.validation import H5PValidationError, validate_package
    from courses.models import H5PLibrary, H5PPackage

    H5PPackage.objects.all().delete()
    H5PLibrary.objects.all().delete()
    print(
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"repeat: {args.repeat}, media: {settings.MEDIA_ROOT}"
    )
    print(
        f"{'package':<58} {'size KB':>8} {'files':>6} {'validate ms':>12} "
        f"{'1st install ms':>15} {'repeat ms':>10}"
    )
    for path in sorted(args.fixtures.glob("*.h5p")):
        validate_times, install_times = [], []
        entries = 0
        refused = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            try:
                validated = validate_package(path)
            except H5PValidationError as exc:
                refused = exc.message
                break
            validate_times.append(time.perf_counter() - start)
            entries = len(validated.content_files) + sum(len(x.files) for x in validated.libraries)
            start = time.perf_counter()
            try:
                install_package(validated)
            except H5PValidationError as exc:
                refused = exc.message
                break
            install_times.append(time.perf_counter() - start)
        size = path.stat().st_size // 1024
        if not install_times:
            print(f"{path.name:<58} {size:>8} {'':>6} refused: {refused}")
            continue
        repeat = statistics.median(install_times[1:]) * 1000 if len(install_times) > 1 else 0
        print(
            f"{path.name:<58} {size:>8} {entries:>6} "
            f"{statistics.median(validate_times) * 1000:>12.1f} "
            f"{install_times[0] * 1000:>15.1f} {repeat:>10.1f}"
        )
    bomb_time = _bomb(validate_package, H5PValidationError)
    print(f"zip bomb (1 GB of zeros declared, 1 MB on disk) refused in {bomb_time * 1000:.1f} ms")
    shutil.rmtree(scratch, ignore_errors=True)


def _bomb(validate_package, error) -> float:
    """A 1 GB entry of zeros: refused from the central directory, nothing decompressed."""
    buffer = io.BytesIO()
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("content/content.json", "w", force_zip64=True) as entry,
    ):
        for _ in range(1024):
            entry.write(block)
    start = time.perf_counter()
    try:
        validate_package(buffer)
    except error:
        return time.perf_counter() - start
    raise SystemExit("the zip bomb was accepted")


if __name__ == "__main__":
    main()
