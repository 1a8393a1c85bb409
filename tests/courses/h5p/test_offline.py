"""What a package needs to play offline (courses/h5p/offline.py): the player's files, the
content, and each library's files the player loads, nothing only the editor reads."""

import json
import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from courses.h5p.offline import offline_files, package_files, player_files
from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import fixture

pytestmark = pytest.mark.django_db


def installed(prefix):
    return install_package(validate_package(fixture(prefix)), by=OPERATOR)


def storage_path(url: str) -> str:
    assert url.startswith(settings.MEDIA_URL), url
    return url.removeprefix(settings.MEDIA_URL)


def test_a_package_lists_its_content_and_what_the_player_loads_of_each_library():
    package = installed("truefalse")
    urls = package_files(package)
    paths = [storage_path(url) for url in urls]
    assert len(set(paths)) == len(paths)
    assert all(default_storage.exists(path) for path in paths)
    content = package.content_path
    assert f"{content}/h5p.json" in paths
    assert f"{content}/content/content.json" in paths
    libraries = {f"h5p/libraries/{lib.folder_name}" for lib in package.libraries.all()}
    assert {path.rsplit("/", 1)[0] for path in paths if path.endswith("/library.json")} == (
        libraries
    )
    for root in libraries:
        metadata = json.loads(default_storage.open(f"{root}/library.json").read())
        for kind in ("preloadedJs", "preloadedCss"):
            for entry in metadata.get(kind, []):
                assert f"{root}/{entry['path']}" in paths
    # Not loaded by the player: the editor's data, translations, upgrades, old font formats.
    assert not [p for p in paths if p.endswith(("semantics.json", "upgrades.js", ".eot"))]
    assert not [p for p in paths if "/language/" in p or re.search(r"/fonts/[^/]+\.svg$", p)]
    assert not [p for p in paths if "H5PEditor." in p]
    # The fonts the styles ask for are there in a format browsers of today read.
    assert "h5p/libraries/FontAwesome-4.5/fontawesome-webfont.woff2" in paths
    assert "h5p/libraries/H5P.FontIcons-1.0/fonts/h5p.woff" in paths


def test_the_player_files_include_every_font_its_styles_use():
    urls = player_files()
    assert urls[:2] == ["/static/courses/h5p-player.css", "/static/courses/h5p-player.js"]
    for name in ("main.bundle.js", "frame.bundle.js", "styles/h5p.css"):
        assert f"/static/h5p-player/{name}" in urls
    styles = (settings.H5P_PLAYER_DIST / "styles" / "h5p.css").read_text()
    for font in set(re.findall(r"url\('\.\./(fonts/[^')?#]+)", styles)):
        assert f"/static/h5p-player/{font}" in urls
    assert not [url for url in urls if url.endswith((".d.ts", ".txt"))]


def test_packages_sharing_libraries_list_each_file_once():
    true_false, multichoice = installed("truefalse"), installed("multichoice")
    urls = offline_files([true_false, multichoice])
    assert len(urls) == len(set(urls))
    assert set(urls) == set(player_files()) | set(package_files(true_false)) | set(
        package_files(multichoice)
    )
    shared = set(package_files(true_false)) & set(package_files(multichoice))
    assert "/media/h5p/libraries/H5P.JoubelUI-1.3/library.json" in shared
    assert offline_files([]) == []
