"""Time H5P imports: validation and installation per fixture package.

    .venv/bin/python bench/h5p_import.py [--repeat N] [--fixtures DIR] [--postgres]

Runs on a database of its own, never on DATABASE_URL (the script deletes every H5P row of
its database first): a throwaway SQLite file, or with --postgres the database kb_bench_h5p on
the local server (created if missing); media go to a throwaway folder. For each package it
prints the validation time, the first install (libraries written) and the median of the
repeats (libraries shared, only content written).
"""

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import LOCAL_POSTGRES, ROOT, database_label, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests/fixtures/h5p")
    parser.add_argument(
        "--postgres", action="store_true", help="use kb_bench_h5p on the local PostgreSQL"
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="kb-bench-h5p-"))
    try:
        url = (
            LOCAL_POSTGRES + "kb_bench_h5p"
            if args.postgres
            else f"sqlite:///{scratch / 'kb_bench_h5p.sqlite3'}"
        )
        setup_django(url)
        run(args.fixtures, args.repeat, scratch / "media")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(fixtures: Path, repeat: int, media: Path) -> None:
    from django.conf import settings

    from courses.h5p.storage import OPERATOR, install_package
    from courses.h5p.validation import H5PValidationError, validate_package
    from courses.models import H5PLibrary, H5PPackage

    settings.MEDIA_ROOT = media
    H5PPackage.objects.all().delete()  # the script's own database: see setup in main()
    H5PLibrary.objects.all().delete()
    print(f"database: {database_label()}, repeat: {repeat}, media: {media}")
    print(
        f"{'package':<58} {'size KB':>8} {'files':>6} {'validate ms':>12} "
        f"{'1st install ms':>15} {'repeat ms':>10}"
    )
    packages = sorted(fixtures.glob("*.h5p"))
    if not packages:
        sys.exit(f"No .h5p packages in {fixtures}")
    for path in packages:
        validate_times, install_times = [], []
        entries = 0
        refused = None
        for _ in range(repeat):
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
                install_package(validated, by=OPERATOR)
            except H5PValidationError as exc:
                refused = exc.message
                break
            install_times.append(time.perf_counter() - start)
        size = path.stat().st_size // 1024
        if not install_times:
            print(f"{path.name:<58} {size:>8} {'':>6} refused: {refused}")
            continue
        repeated = statistics.median(install_times[1:]) * 1000 if len(install_times) > 1 else 0
        print(
            f"{path.name:<58} {size:>8} {entries:>6} "
            f"{statistics.median(validate_times) * 1000:>12.1f} "
            f"{install_times[0] * 1000:>15.1f} {repeated:>10.1f}"
        )
    bomb_time = _bomb(validate_package, H5PValidationError)
    print(f"zip bomb (1 GB of zeros declared, 1 MB on disk) refused in {bomb_time * 1000:.1f} ms")


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
