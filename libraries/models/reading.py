"""Where each reader stopped in a digital book: one row per account and file, so that a book
opened on a phone resumes on a computer at the same place."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .digital import DigitalFile

# An EPUB position is a CFI (`epubcfi(/6/14!/4/2/1:0)`), a PDF position `page:N`.
LOCATOR_MAX_LENGTH = 1000


class ReadingPositionQuerySet(models.QuerySet):
    def of(self, user, file):
        """The account's stored position in `file`, or None (anonymous: always None)."""
        if user is None or not user.is_authenticated:
            return None
        return self.filter(user=user, file=file).first()


class ReadingPosition(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="reading_positions",
    )
    file = models.ForeignKey(
        DigitalFile,
        verbose_name=_("digital file"),
        on_delete=models.CASCADE,
        related_name="reading_positions",
    )
    locator = models.CharField(
        _("position in the book"),
        max_length=LOCATOR_MAX_LENGTH,
        help_text=_("An EPUB CFI, or page:N in a PDF."),
    )
    progress = models.FloatField(_("share read"), default=0.0)
    updated_at = models.DateTimeField(_("read at"), auto_now=True)

    objects = ReadingPositionQuerySet.as_manager()

    class Meta:
        verbose_name = _("reading position")
        verbose_name_plural = _("reading positions")
        constraints = [
            models.UniqueConstraint(fields=["user", "file"], name="readingposition_once_per_file"),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1),
                name="readingposition_progress_fraction",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} · {self.file_id} · {self.progress:.0%}"
