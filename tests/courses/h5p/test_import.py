import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courses.models import H5PLibrary, H5PPackage
from tests.courses.h5p.support import fixture, media_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
ROOT = Path(__file__).resolve().parents[3]


def test_import_prints_id_and_title(capsys):
    call_command("import_h5p", str(fixture("truefalse")), "--title", "Đúng hay sai")
    package = H5PPackage.objects.get()
    out = capsys.readouterr().out
    assert out.strip() == f"Imported H5P package {package.pk} ({package.uuid}): Đúng hay sai"
    assert package.title == "Đúng hay sai"


def test_refusal_is_one_line_naming_the_library(settings):
    with pytest.raises(CommandError) as caught:
        call_command("import_h5p", str(fixture("content-only")))
    assert str(caught.value) == (
        "content-only__blanks__h5p2elpx_blanks-with-image.h5p: Missing H5P libraries "
        "(upload a package that contains them first): H5P.Blanks 1.14"
    )
    assert H5PPackage.objects.count() == H5PLibrary.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []


def test_missing_file_refused(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_h5p", str(tmp_path / "nothing.h5p"))


def test_exit_status_and_stderr_from_the_shell(tmp_path):
    bad = tmp_path / "notes.h5p"
    bad.write_text("not a zip")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "training_site.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_h5p", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    # One line naming the file (in the site's default language, Vietnamese).
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: notes.h5p: ")
    assert len(line) > len("CommandError: notes.h5p: ")


def test_import_installs_libraries_and_may_name_the_owner_library(capsys):
    from tests.factories import LibraryFactory

    school = LibraryFactory(code="THA")
    call_command("import_h5p", str(fixture("truefalse")), "--library", "tha")
    package = H5PPackage.objects.get()
    assert package.library == school
    assert package.uploaded_by is None
    assert H5PLibrary.objects.filter(machine_name="H5P.TrueFalse").exists()


def test_import_refuses_an_unknown_library_code(settings):
    with pytest.raises(CommandError) as caught:
        call_command("import_h5p", str(fixture("truefalse")), "--library", "NOPE")
    assert str(caught.value) == "No library has the code NOPE."
    assert H5PPackage.objects.count() == H5PLibrary.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []


def test_refilter_reports_how_many_packages_changed(capsys):
    call_command("import_h5p", str(fixture("truefalse")))
    capsys.readouterr()
    call_command("import_h5p", "--refilter")
    assert capsys.readouterr().out.strip() == "Filtered the content of 0 H5P packages again."
