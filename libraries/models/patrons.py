"""Reader cards and online registration requests."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .network import Library, StaffDecision

CHILD_AGE = 16


def age_on(date_of_birth: datetime.date | None, day: datetime.date) -> int | None:
    if not date_of_birth:
        return None
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


class PatronCategory(models.TextChoices):
    CHILD = "child", _("Child")
    STUDENT = "student", _("Student")
    TEACHER = "teacher", _("Teacher")
    ADULT = "adult", _("Adult")
    STAFF = "staff", _("Staff")


class PatronSequence(models.Model):
    """The next card number of one library: numbers are never reused."""

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, related_name="patron_sequence"
    )
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("card number sequence")

    def __str__(self):
        return f"{self.library.code}: {self.last_number}"


class PatronQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Patron.Status.ACTIVE)


class Patron(models.Model):
    """A reader card. The card number is unique across the network: library code + sequence."""

    Category = PatronCategory

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        BLOCKED = "blocked", _("Blocked")

    card_number = models.CharField(_("card number"), max_length=32, unique=True)
    home_library = models.ForeignKey(
        Library, verbose_name=_("home library"), on_delete=models.PROTECT, related_name="patrons"
    )
    full_name = models.CharField(_("full name"), max_length=150)
    category = models.CharField(
        _("category"), max_length=10, choices=PatronCategory.choices, default=PatronCategory.ADULT
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    school_class = models.CharField(_("school and class"), max_length=150, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    guardian_name = models.CharField(_("guardian name"), max_length=150, blank=True)
    guardian_contact = models.CharField(_("guardian phone or email"), max_length=150, blank=True)
    guardian_consent = models.BooleanField(_("guardian consent given"), default=False)
    expires_on = models.DateField(_("expiry date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    blocked_reason = models.CharField(_("reason for blocking"), max_length=200, blank=True)
    keep_loan_history = models.BooleanField(
        _("keep loan history"),
        default=False,
        help_text=_("Off by default for children; returned loans are then anonymised."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("site account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patron",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatronQuerySet.as_manager()

    class Meta:
        verbose_name = _("reader card")
        verbose_name_plural = _("reader cards")
        ordering = ["card_number"]
        constraints = [
            models.CheckConstraint(condition=~Q(card_number=""), name="patron_card_not_empty"),
        ]
        indexes = [models.Index(fields=["home_library", "status"])]

    def __str__(self):
        return f"{self.full_name} ({self.card_number})"

    @property
    def is_child(self) -> bool:
        return self.category == PatronCategory.CHILD

    def is_expired(self, today: datetime.date | None = None) -> bool:
        return self.expires_on < (today or timezone.localdate())


class RegistrationRequest(StaffDecision):
    """An online application for a reader card, decided by the home library's staff."""

    full_name = models.CharField(_("full name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    school_class = models.CharField(_("school and class"), max_length=150, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    home_library = models.ForeignKey(
        Library,
        verbose_name=_("home library"),
        on_delete=models.PROTECT,
        related_name="registration_requests",
    )
    category = models.CharField(
        _("category"), max_length=10, choices=PatronCategory.choices, default=PatronCategory.ADULT
    )
    guardian_name = models.CharField(_("guardian name"), max_length=150, blank=True)
    guardian_contact = models.CharField(_("guardian phone or email"), max_length=150, blank=True)
    guardian_consent = models.BooleanField(_("guardian consent given"), default=False)
    patron = models.OneToOneField(
        Patron,
        verbose_name=_("issued card"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registration",
    )

    class Meta:
        verbose_name = _("reader card application")
        verbose_name_plural = _("reader card applications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(patron__isnull=False),
                name="registration_approved_has_card",
            ),
        ]

    def __str__(self):
        return self.full_name
