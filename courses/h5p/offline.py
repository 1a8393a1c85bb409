"""The files H5P packages need to play without a connection (a lesson saved for offline use).

What h5p-standalone loads: the player's own files (static, h5p-player/), h5p.json, the
content folder, and for every library of the package its library.json, scripts, styles and
what the styles use (fonts, images). Left out: what only the editor or an upgrade reads, and
font formats no browser of today picks when the same font comes as woff or woff2.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.templatetags.static import static

from courses.h5p.storage import library_path, list_tree
from courses.models import H5PPackage

NOT_PLAYED = frozenset({"semantics.json", "upgrades.js", "presave.js"})
NOT_PLAYED_FOLDERS = frozenset({"language"})
OLD_FONT_FORMATS = frozenset({".eot"})
PLAYER_STATIC_TYPES = frozenset({".js", ".css", ".woff2", ".woff", ".gif", ".svg", ".png"})
# Our own files around the player (templates/courses/h5p/player.html).
PLAYER_OWN_STATIC = ("courses/h5p-player.css", "courses/h5p-player.js")


def _played(name: str) -> bool:
    folders, base = name.split("/")[:-1], posixpath.basename(name)
    extension = posixpath.splitext(base)[1].lower()
    if base in NOT_PLAYED or NOT_PLAYED_FOLDERS.intersection(folders):
        return False
    if extension in OLD_FONT_FORMATS:
        return False
    # SVG fonts: only very old Safari reads them; the woff beside them is what plays.
    return not (extension == ".svg" and "fonts" in folders)


def player_files() -> list[str]:
    """URLs of h5p-standalone's files (from npm, served under static/h5p-player/)."""
    root = settings.H5P_PLAYER_DIST
    names = sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() in PLAYER_STATIC_TYPES
        and not path.name.endswith(".d.ts")
    )
    return [static(path) for path in PLAYER_OWN_STATIC] + [
        static(f"h5p-player/{name}") for name in names
    ]


def package_files(package: H5PPackage) -> list[str]:
    """URLs of the package's content and of every library it plays with."""
    paths = [f"{package.content_path}/{name}" for name in list_tree(package.content_path)]
    libraries = {package.main_library, *package.libraries.all()}
    for library in sorted(libraries, key=lambda row: row.folder_name):
        root = library_path(library)
        paths.extend(f"{root}/{name}" for name in list_tree(root) if _played(name))
    return [default_storage.url(path) for path in paths]


def offline_files(packages: Iterable[H5PPackage]) -> list[str]:
    """Everything the packages need offline, each URL once: the player's files first."""
    packages = list(packages)
    if not packages:
        return []
    urls = player_files()
    for package in packages:
        urls.extend(package_files(package))
    return list(dict.fromkeys(urls))
