"""Install validated H5P packages: libraries stored once and shared, content per package.

Layout in the default storage (MEDIA_ROOT locally, S3 later), as h5p-standalone expects:

    h5p/libraries/<Machine.Name-Major.Minor>/library.json ...   (librariesPath, shared)
    h5p/content/<uuid>/h5p.json                                 (h5pJsonPath)
    h5p/content/<uuid>/content/content.json, images/...         (contentJsonPath)

Only the storage API is used (no os paths), so another backend can replace FileSystemStorage.

Libraries the player provides: h5p-standalone bundles H5P core and H5P.jQuery in
frame.bundle.js, but neither is an H5P library that packages list as a dependency, and the
player fetches library.json for every declared dependency without exception. So no declared
dependency can be exempted: each must be in the package or already installed
(PLAYER_PROVIDED_LIBRARIES is empty on purpose).

Trust. Library code (JavaScript) runs with the site's origin in every lesson that uses it, so
adding a library or a newer patch of one needs libraries.access.can_install_h5p_libraries
(network admins, superusers, and the OPERATOR at the command line); anyone else may upload
content whose libraries are installed already. Content parameters are filtered against the
semantics of each library (courses/h5p/semantics.py) before content.json is written: the
stored file is what the player receives.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext as _

from courses.h5p.access import can_manage_package, may_own_packages_at
from courses.h5p.semantics import escape_text, filter_metadata, filter_params
from courses.h5p.validation import (
    H5PValidationError,
    LibraryRef,
    PackagedLibraryFiles,
    ValidatedPackage,
    parse_dependencies,
)
from courses.models import H5PLibrary, H5PPackage
from libraries.access import can_install_h5p_libraries
from libraries.network.audit import field_values, log_change

logger = logging.getLogger(__name__)

LIBRARIES_ROOT = "h5p/libraries"
CONTENT_ROOT = "h5p/content"
PLAYER_PROVIDED_LIBRARIES: frozenset[str] = frozenset()

# The staff audit log (libraries/network/audit.py), labels in courses/wagtail_hooks.py.
# Library code is the network admins' matter: its entries carry no library (network admins
# read them); a package's entries carry its owner library (None: the network's).
LIBRARY_INSTALL_ACTION = "courses.h5p.library_install"
LIBRARY_UPGRADE_ACTION = "courses.h5p.library_upgrade"
PACKAGE_UPLOAD_ACTION = "courses.h5p.upload"
PACKAGE_EDIT_ACTION = "courses.h5p.edit"
PACKAGE_CONTENT_ACTION = "courses.h5p.content"
PACKAGE_DELETE_ACTION = "courses.h5p.delete"


class MissingLibrariesError(H5PValidationError):
    """The package needs libraries that are neither in it nor installed."""

    def __init__(self, missing: list[LibraryRef]):
        self.missing = missing
        super().__init__(
            _("Missing H5P libraries (upload a package that contains them first): %(list)s")
            % {"list": ", ".join(str(ref) for ref in missing)}
        )


class Operator:
    """Whoever runs a command on the server (import_h5p, load_demo): trusted as a superuser."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()


class LibraryInstallRefused(H5PValidationError):
    """The package would add or change library code, and the uploader may not install it."""

    def __init__(self, library: PackagedLibraryFiles, installed: H5PLibrary | None):
        self.library = library
        self.installed = installed
        ref = library.ref
        version = f"{ref.major}.{ref.minor}.{library.patch}"
        if installed is None:
            message = _(
                "This package would install the H5P library %(library)s, which is not on the "
                "site yet. Only a network administrator can install or upgrade H5P libraries: "
                "ask one to upload this package first."
            ) % {"library": f"{ref.machine_name} {version}"}
        else:
            message = _(
                "This package would upgrade the H5P library %(installed)s to %(version)s. Only "
                "a network administrator can install or upgrade H5P libraries: ask one to "
                "upload this package first."
            ) % {"installed": str(installed), "version": version}
        super().__init__(message)


class PackageOwnerRefused(H5PValidationError):
    """The uploader may not put a package under that library (or under the whole network)."""

    def __init__(self, library):
        if library is None:
            message = _("Choose the library this H5P activity belongs to.")
        else:
            message = _("You cannot add H5P activities for %(library)s.") % {"library": library}
        super().__init__(message)


def may_install_libraries(by) -> bool:
    return by is OPERATOR or can_install_h5p_libraries(by)


def _actor(by):
    """The user of an audit entry: none for the OPERATOR (the command line)."""
    return None if by is OPERATOR else by


# What the audit log keeps of a package when it is uploaded or deleted.
PACKAGE_FIELDS = ("title", "uuid", "main_library", "library")


def library_path(ref: LibraryRef | H5PLibrary) -> str:
    return f"{LIBRARIES_ROOT}/{ref.folder_name}"


def _key(ref: LibraryRef) -> tuple[str, int, int]:
    return (ref.machine_name, ref.major, ref.minor)


def _row_key(row: H5PLibrary) -> tuple[str, int, int]:
    return (row.machine_name, row.major_version, row.minor_version)


def _row_dependencies(row: H5PLibrary) -> list[LibraryRef]:
    return parse_dependencies(row.metadata.get("preloadedDependencies"), where=str(row))


def resolve_libraries(
    validated: ValidatedPackage, installed: dict[tuple[str, int, int], H5PLibrary]
) -> tuple[list[tuple[str, int, int]], list[LibraryRef]]:
    """Dependency closure of the package (preloaded, recursively): (needed keys, missing)."""
    packaged = {_key(lib.ref): lib for lib in validated.libraries}
    needed: list[tuple[str, int, int]] = []
    missing: list[LibraryRef] = []
    pending = list(validated.preloaded)
    seen: set[tuple[str, int, int]] = set()
    while pending:
        ref = pending.pop(0)
        key = _key(ref)
        if key in seen or ref.machine_name in PLAYER_PROVIDED_LIBRARIES:
            continue
        seen.add(key)
        if key in packaged:
            needed.append(key)
            pending.extend(packaged[key].dependencies)
        elif key in installed:
            needed.append(key)
            pending.extend(_row_dependencies(installed[key]))
        else:
            missing.append(ref)
    return needed, missing


def _referenced_keys(validated: ValidatedPackage) -> set[tuple[str, int, int]]:
    keys = {_key(ref) for ref in validated.preloaded}
    for lib in validated.libraries:
        keys.add(_key(lib.ref))
        keys.update(_key(dep) for dep in lib.dependencies)
    return keys


def _installed(keys, *, lock: bool) -> dict[tuple[str, int, int], H5PLibrary]:
    """Installed rows for these keys, and, recursively, for their own dependencies."""
    found: dict[tuple[str, int, int], H5PLibrary] = {}
    pending = set(keys)
    while pending:
        condition = Q(pk__in=[])
        for name, major, minor in pending:
            condition |= Q(machine_name=name, major_version=major, minor_version=minor)
        queryset = H5PLibrary.objects.filter(condition)
        if lock:
            queryset = queryset.select_for_update()
        rows = list(queryset)
        pending = set()
        for row in rows:
            found[_row_key(row)] = row
            pending.update(_key(dep) for dep in _row_dependencies(row))
        pending -= set(found) | set(keys)
    return found


def missing_libraries(validated: ValidatedPackage) -> list[LibraryRef]:
    """Libraries the package needs that are neither in it nor installed (read-only check)."""
    installed = _installed(_referenced_keys(validated), lock=False)
    return resolve_libraries(validated, installed)[1]


def library_changes(
    validated: ValidatedPackage, installed: dict[tuple[str, int, int], H5PLibrary]
) -> list[tuple[PackagedLibraryFiles, H5PLibrary | None]]:
    """Packaged libraries whose code the install would write: new ones (row None) and newer
    patches of installed ones. Same or older patches are ignored (the installed code stays)."""
    changes = []
    for lib in validated.libraries:
        row = installed.get(_key(lib.ref))
        if row is None or lib.patch > row.patch_version:
            changes.append((lib, row))
    return changes


def check_may_install(validated: ValidatedPackage, *, by, installed=None) -> None:
    """Raise LibraryInstallRefused naming the first library the package would add or change,
    unless `by` may install library code (read-only when `installed` is not given)."""
    if may_install_libraries(by):
        return
    if installed is None:
        installed = _installed(_referenced_keys(validated), lock=False)
    changes = library_changes(validated, installed)
    if changes:
        raise LibraryInstallRefused(*changes[0])


def _write(name: str, data: bytes, written: list[str]) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(data))
    written.append(saved)
    if saved != name:  # a storage that renamed the file would break the player's paths
        raise OSError(f"storage saved {name} as {saved}")


def list_tree(prefix: str) -> list[str]:
    """Every file under a storage prefix, as paths relative to it."""
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = list(files)
    for folder in folders:
        found.extend(f"{folder}/{name}" for name in list_tree(f"{prefix}/{folder}"))
    return found


def delete_tree(prefix: str) -> None:
    """Remove every file under a storage prefix (and, on local disk, the empty folders)."""
    names = list_tree(prefix)
    for name in names:
        default_storage.delete(f"{prefix}/{name}")
    _prune_empty_folders(prefix, names)


def _prune_empty_folders(prefix: str, names) -> None:
    """On local disk, remove the folders under `prefix` (itself included) left empty."""
    folders = {prefix}
    for name in names:
        parts = name.split("/")[:-1]
        folders.update(f"{prefix}/{'/'.join(parts[:i])}" for i in range(1, len(parts) + 1))
    for folder in sorted(folders, key=len, reverse=True):
        _remove_empty_folder(folder)


def _remove_empty_folder(prefix: str) -> None:
    try:
        path = default_storage.path(prefix)
    except NotImplementedError:
        return  # object storage has no folders
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _discard(written: list[str]) -> None:
    for name in written:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("could not remove %s after a failed H5P install", name)
    for folder in sorted({n.rsplit("/", 1)[0] for n in written}, key=len, reverse=True):
        parts = folder.split("/")
        while len(parts) > 2:  # keep h5p/libraries and h5p/content themselves
            _remove_empty_folder("/".join(parts))
            parts.pop()


def _write_library(lib: PackagedLibraryFiles, written: list[str]) -> None:
    root = library_path(lib.ref)
    for name, data in sorted(lib.files.items()):
        _write(f"{root}/{name}", data, written)


def _replace_library(lib: PackagedLibraryFiles) -> None:
    """After commit: turn an installed library folder into its newer patch.

    Files are overwritten one by one, then the old patch's extra files are removed, so the
    folder is never empty while lessons are playing.
    """
    root = library_path(lib.ref)
    stale = set(list_tree(root)) - set(lib.files)
    _write_library(lib, [])
    for name in stale:
        default_storage.delete(f"{root}/{name}")
    _prune_empty_folders(root, stale)


def _library_fields(lib: PackagedLibraryFiles) -> dict:
    return {
        "patch_version": lib.patch,
        "title": str(lib.metadata.get("title", ""))[:255],
        "runnable": str(lib.metadata.get("runnable", 0)) in ("1", "True", "true"),
        "metadata": lib.metadata,
    }


def install_package(
    validated: ValidatedPackage, *, by, library=None, title: str | None = None
) -> H5PPackage:
    """Store a validated package: its libraries once (shared), its content under its uuid.

    `by` is the acting user, or OPERATOR for the command line. `library` owns the package
    (None: the whole network); `by` must administer it (PackageOwnerRefused otherwise).

    A newer patch of an installed library replaces the older one (after commit); an older
    patch never overwrites a newer one. Adding or upgrading a library needs
    can_install_h5p_libraries(by): otherwise LibraryInstallRefused names the first such
    library. Missing dependencies raise MissingLibrariesError naming each. Both are raised
    before anything is written. Content parameters and metadata are filtered against the
    libraries' semantics before they are written. If anything fails, the files this call
    wrote are removed and no row is left. Call it outside any outer transaction that might
    roll back later (files cannot follow a rollback that happens after this function returned).
    """
    if by is not OPERATOR and not may_own_packages_at(by, library):
        raise PackageOwnerRefused(library)
    for attempt in (1, 2):
        written: list[str] = []
        try:
            with transaction.atomic():
                return _install(validated, by=by, library=library, title=title, written=written)
        except IntegrityError:
            # A concurrent upload installed one of our libraries first; try again with it.
            _discard(written)
            if attempt == 2:
                raise
        except BaseException:
            _discard(written)
            raise
    raise AssertionError("unreachable")


def _install(validated, *, by, library, title, written) -> H5PPackage:
    installed = _installed(_referenced_keys(validated), lock=True)
    needed, missing = resolve_libraries(validated, installed)
    if missing:
        raise MissingLibrariesError(missing)
    check_may_install(validated, by=by, installed=installed)

    rows: dict[tuple[str, int, int], H5PLibrary] = dict(installed)
    changed: list[tuple[H5PLibrary, PackagedLibraryFiles]] = []
    for lib in validated.libraries:
        key = _key(lib.ref)
        row = rows.get(key)
        if row is None:
            # The insert takes the unique-key lock first; a concurrent install of the same
            # library waits here and fails before writing a single file.
            row = H5PLibrary.objects.create(
                machine_name=lib.ref.machine_name,
                major_version=lib.ref.major,
                minor_version=lib.ref.minor,
                **_library_fields(lib),
            )
            delete_tree(library_path(lib.ref))  # leftovers of a crash, owned by no row
            _write_library(lib, written)
            rows[key] = row
            changed.append((row, lib))
            log_change(
                row,
                LIBRARY_INSTALL_ACTION,
                by=_actor(by),
                before={},
                after={
                    "machine_name": row.machine_name,
                    "major_version": row.major_version,
                    "minor_version": row.minor_version,
                    "patch_version": row.patch_version,
                },
            )
        elif lib.patch > row.patch_version:
            before = {"patch_version": row.patch_version}
            for attr, value in _library_fields(lib).items():
                setattr(row, attr, value)
            row.save()
            transaction.on_commit(lambda lib=lib: _replace_library(lib), robust=True)
            changed.append((row, lib))
            log_change(
                row,
                LIBRARY_UPGRADE_ACTION,
                by=_actor(by),
                before=before,
                after={"patch_version": row.patch_version},
            )
    for row, lib in changed:
        row.dependencies.set([rows[_key(dep)] for dep in lib.dependencies if _key(dep) in rows])

    semantics_of = _semantics_lookup(validated, {_key(lib.ref) for _row, lib in changed})
    main = validated.main_library
    params = json.loads(validated.content_files["content.json"].decode("utf-8-sig"))
    content_json = filter_params(
        params, library=f"{main.machine_name} {main.major}.{main.minor}", semantics_of=semantics_of
    )
    h5p_json = filter_h5p_json(validated.h5p_json)

    package_uuid = uuid.uuid4()
    root = f"{CONTENT_ROOT}/{package_uuid}"
    _write(f"{root}/h5p.json", _json_bytes(h5p_json), written)
    for name, data in sorted(validated.content_files.items()):
        if name == "content.json":
            data = _json_bytes(content_json)
        _write(f"{root}/content/{name}", data, written)
    package = H5PPackage.objects.create(
        uuid=package_uuid,
        title=(title or validated.title or _("Untitled H5P activity"))[:255],
        main_library=rows[_key(main)],
        h5p_json=h5p_json,
        file_size=validated.upload_size,
        uploaded_by=None if by is OPERATOR else by,
        library=library,
    )
    package.libraries.set([rows[key] for key in needed])
    log_change(
        package,
        PACKAGE_UPLOAD_ACTION,
        by=_actor(by),
        before={},
        after=field_values(package, PACKAGE_FIELDS),
        library=library,
    )
    return package


H5P_JSON_STRUCTURE = ("language", "mainLibrary", "embedTypes", "preloadedDependencies")


def filter_h5p_json(h5p_json: dict) -> dict:
    """h5p.json as the player gets it: its structure as validated, its metadata (title,
    authors, license…) filtered against H5P's metadata semantics; other keys dropped."""
    metadata = filter_metadata({k: v for k, v in h5p_json.items() if k not in H5P_JSON_STRUCTURE})
    structure = {k: h5p_json[k] for k in H5P_JSON_STRUCTURE if k in h5p_json}
    structure["language"] = escape_text(h5p_json.get("language", ""))
    structure["preloadedDependencies"] = [
        {k: dep[k] for k in ("machineName", "majorVersion", "minorVersion") if k in dep}
        for dep in h5p_json.get("preloadedDependencies") or []
    ]
    return {**metadata, **structure}


def _json_bytes(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _semantics_lookup(validated: ValidatedPackage, written_keys):
    """Semantics of a library as it will be once this install commits: the packaged
    semantics.json for libraries this install adds or upgrades, the installed one otherwise."""
    packaged = {_key(lib.ref): lib for lib in validated.libraries}

    def semantics_of(name: str, major: int, minor: int):
        key = (name, major, minor)
        if key in written_keys:
            return _parse_semantics(packaged[key].files.get("semantics.json"))
        return installed_semantics_of(name, major, minor)

    return semantics_of


def installed_semantics_of(name: str, major: int, minor: int) -> list | None:
    """semantics.json of an installed library: [] when it has none (or an unreadable one),
    None when the library is not installed."""
    if not H5PLibrary.objects.filter(
        machine_name=name, major_version=major, minor_version=minor
    ).exists():
        return None
    path = f"{LIBRARIES_ROOT}/{name}-{major}.{minor}/semantics.json"
    try:
        with default_storage.open(path) as handle:
            return _parse_semantics(handle.read())
    except OSError:
        return []


def _filtered_params(package: H5PPackage, params) -> dict:
    main = package.main_library
    return filter_params(
        params,
        library=f"{main.machine_name} {main.major_version}.{main.minor_version}",
        semantics_of=installed_semantics_of,
    )


@transaction.atomic
def save_content(*, package: H5PPackage, params, by) -> dict:
    """The one way to write a stored package's content.json after its upload: `params` are
    filtered against the installed libraries' semantics first, and h5p.json's metadata again.
    Returns the parameters as stored. `by` must manage the package (or be the OPERATOR)."""
    if by is not OPERATOR and not can_manage_package(by, package):
        raise PackageOwnerRefused(package.library)
    filtered = _filtered_params(package, params)
    h5p_json = filter_h5p_json(package.h5p_json)
    root = f"{CONTENT_ROOT}/{package.uuid}"
    before = {"content_sha256": _stored_digest(f"{root}/content/content.json")}
    data = _json_bytes(filtered)
    _write(f"{root}/content/content.json", data, [])
    after = {"content_sha256": hashlib.sha256(data).hexdigest()}
    if h5p_json != package.h5p_json:
        before["h5p_json_sha256"] = hashlib.sha256(_json_bytes(package.h5p_json)).hexdigest()
        after["h5p_json_sha256"] = hashlib.sha256(_json_bytes(h5p_json)).hexdigest()
        _write(f"{root}/h5p.json", _json_bytes(h5p_json), [])
        H5PPackage.objects.filter(pk=package.pk).update(h5p_json=h5p_json)
        package.h5p_json = h5p_json
    if before != after:
        log_change(
            package,
            PACKAGE_CONTENT_ACTION,
            by=_actor(by),
            before=before,
            after=after,
            library=package.library,
        )
    return filtered


def _stored_digest(name: str) -> str | None:
    """sha256 of a stored file, None when it cannot be read."""
    try:
        with default_storage.open(name) as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


@transaction.atomic
def retitle_package(*, package: H5PPackage, title: str, by) -> H5PPackage:
    """Give a stored package another title (the staff area's edit screen). `by` must manage
    the package (or be the OPERATOR); an unchanged title changes and logs nothing."""
    if by is not OPERATOR and not can_manage_package(by, package):
        raise PackageOwnerRefused(package.library)
    locked = (
        H5PPackage.objects.select_for_update(of=("self",))
        .select_related("library")
        .get(pk=package.pk)
    )
    title = title[:255]
    if locked.title != title:
        before = {"title": locked.title}
        locked.title = title
        locked.save(update_fields=["title", "updated_at"])
        log_change(
            locked,
            PACKAGE_EDIT_ACTION,
            by=_actor(by),
            before=before,
            after={"title": title},
            library=locked.library,
        )
    return locked


def stored_params(package: H5PPackage) -> dict:
    """content.json of a stored package, as the player receives it."""
    with default_storage.open(f"{CONTENT_ROOT}/{package.uuid}/content/content.json") as handle:
        return json.loads(handle.read().decode("utf-8-sig"))


def refilter_stored_content() -> list[H5PPackage]:
    """Filter every stored package again (those stored before filtering existed, or after an
    upgrade changed a library's semantics). Returns the packages whose content changed."""
    changed = []
    for package in H5PPackage.objects.select_related("main_library").order_by("pk"):
        try:
            params = stored_params(package)
        except (OSError, ValueError):
            logger.warning("H5P package %s has no readable content.json", package.uuid)
            continue
        if (
            _filtered_params(package, params) != params
            or filter_h5p_json(package.h5p_json) != package.h5p_json
        ):
            save_content(package=package, params=params, by=OPERATOR)
            changed.append(package)
    return changed


def _parse_semantics(data: bytes | None) -> list:
    if not data:
        return []
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    return parsed if isinstance(parsed, list) else []


def delete_package(package: H5PPackage, *, by=OPERATOR) -> None:
    """Delete the package row, then (after commit) its content folder. Libraries stay.

    `by` must manage the package (or be the OPERATOR); the deletion is logged first, on the
    row that is about to go, with its owner library."""
    if by is not OPERATOR and not can_manage_package(by, package):
        raise PackageOwnerRefused(package.library)
    with transaction.atomic():
        log_change(
            package,
            PACKAGE_DELETE_ACTION,
            by=_actor(by),
            before=field_values(package, PACKAGE_FIELDS),
            after={},
            library=package.library,
        )
        package.delete()


def remove_content_files(package_uuid) -> None:
    delete_tree(f"{CONTENT_ROOT}/{package_uuid}")


@receiver(post_delete, sender=H5PPackage, dispatch_uid="h5p-package-files")
def _remove_files_of_deleted_package(sender, instance, **kwargs):
    """Once a package's deletion is committed, its content folder goes (libraries stay)."""
    package_uuid = instance.uuid
    transaction.on_commit(lambda: remove_content_files(package_uuid))
