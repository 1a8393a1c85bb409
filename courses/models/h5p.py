"""H5P content: libraries stored once and shared, packages that use them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class H5PLibrary(models.Model):
    """One H5P library (e.g. H5P.MultiChoice 1.16), stored once under media/h5p/libraries/."""

    machine_name = models.CharField(_("machine name"), max_length=127)
    major_version = models.PositiveIntegerField(_("major version"))
    minor_version = models.PositiveIntegerField(_("minor version"))
    patch_version = models.PositiveIntegerField(_("patch version"), default=0)
    title = models.CharField(_("title"), max_length=255, blank=True)
    runnable = models.BooleanField(_("runnable"), default=False)
    metadata = models.JSONField(_("library.json"), default=dict, blank=True)
    dependencies = models.ManyToManyField("self", symmetrical=False, blank=True)
    installed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("H5P library")
        verbose_name_plural = _("H5P libraries")
        ordering = ["machine_name", "major_version", "minor_version"]
        # Library code runs with the site's origin in every lesson: installing or upgrading it
        # is a permission of its own, as H5P core's "update libraries" (network admins only).
        permissions = [("install_h5plibrary", _("Can install or upgrade H5P libraries"))]
        constraints = [
            models.UniqueConstraint(
                fields=["machine_name", "major_version", "minor_version"],
                name="h5plibrary_unique_version",
            )
        ]

    def __str__(self):
        return f"{self.machine_name} {self.major_version}.{self.minor_version}.{self.patch_version}"

    @property
    def folder_name(self) -> str:
        return f"{self.machine_name}-{self.major_version}.{self.minor_version}"


class H5PPackage(models.Model):
    """An uploaded .h5p file: its content lives under media/h5p/content/<uuid>/."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=255)
    main_library = models.ForeignKey(
        H5PLibrary,
        verbose_name=_("main library"),
        on_delete=models.PROTECT,
        related_name="main_of_packages",
    )
    libraries = models.ManyToManyField(H5PLibrary, related_name="packages", blank=True)
    h5p_json = models.JSONField(_("h5p.json"), default=dict)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    # The library whose admins manage the package; empty: the network's (network admins only).
    library = models.ForeignKey(
        "libraries.Library",
        verbose_name=_("owner library"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="h5p_packages",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("H5P package")
        verbose_name_plural = _("H5P packages")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def content_path(self) -> str:
        """Storage path of the extracted content folder."""
        return f"h5p/content/{self.uuid}"
