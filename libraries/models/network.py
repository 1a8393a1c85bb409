"""The library network: libraries in a tree, who works where, and schools asking to join."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField
from wagtail.models import Page

from training_site.text import normalise_name

code_validator = RegexValidator(
    r"^[A-Z0-9]{2,10}$",
    _("Use 2 to 10 capital letters or digits, no spaces or accents (e.g. THPTLQD)."),
)


class LibraryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def subtree_of(self, library):
        """The library and every library below it."""
        return self.filter(path__startswith=library.path)

    def subtrees_of(self, paths):
        """Every library at or below any of the given tree paths."""
        condition = Q(pk__in=[])
        for path in paths:
            condition |= Q(path__startswith=path)
        return self.filter(condition)


class Library(models.Model):
    class Kind(models.TextChoices):
        PROVINCIAL = "provincial", _("Provincial library")
        DISTRICT = "district", _("District library")
        SCHOOL = "school", _("School library")
        OTHER = "other", _("Other library")

    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        validators=[code_validator],
        help_text=_("Short unique code, also the prefix of barcodes and card numbers."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SCHOOL)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent library"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised tree path of primary keys, e.g. "/1/4/17/": subtree queries are one index scan.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    objects = LibraryQuerySet.as_manager()

    class Meta:
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="library_not_own_parent"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestors(self):
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        return Library.objects.filter(pk__in=ids).order_by("path")

    def is_below(self, other: "Library") -> bool:
        """True when this library is `other` or inside its subtree."""
        return bool(other.path) and self.path.startswith(other.path)

    def clean(self):
        if self.code:
            self.code = self.code.strip().upper()
        if self.parent_id and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("A library cannot be placed below itself.")})

    @transaction.atomic
    def save(self, *args, **kwargs):
        old_path = self.path
        super().save(*args, **kwargs)
        parent_path = self.parent.path if self.parent_id else "/"
        new_path = f"{parent_path}{self.pk}/"
        if new_path != old_path:
            self.path = new_path
            Library.objects.filter(pk=self.pk).update(path=new_path)
            if old_path:
                for child in Library.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    Library.objects.filter(pk=child.pk).update(
                        path=new_path + child.path[len(old_path) :]
                    )


class Role(models.TextChoices):
    NETWORK_ADMIN = "network_admin", _("Network administrator")
    LIBRARY_ADMIN = "library_admin", _("Library administrator")
    LIBRARIAN = "librarian", _("Librarian")
    TEACHER = "teacher", _("Teacher")
    STUDENT = "student", _("Student")
    READER = "reader", _("Reader")


class Membership(models.Model):
    """A person's role at one library. Staff roles reach the library's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    library = models.ForeignKey(
        Library, verbose_name=_("library"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "library", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.library.code}"


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Invitation.Status.PENDING)


class Invitation(models.Model):
    """A role at a library offered by email. Accepting it gives an existing account with that
    email the membership, or creates the account (the invitee sets a password).

    The link carries a signed secret; the row keeps only its hash. Sending it again replaces
    the secret, so an earlier link stops working; accepting or revoking closes it for good.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for acceptance")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    email = models.EmailField(_("email"))
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    library = models.ForeignKey(
        Library, verbose_name=_("library"), on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    secret_hash = models.CharField(max_length=64, editable=False)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("valid until"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("accepted or revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "library", "role"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_role",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower("email")), name="invitation_email_lower"
            ),
        ]

    def __str__(self):
        return f"{self.email} · {self.get_role_display()} · {self.library.code}"

    def is_expired(self, now=None) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= (now or timezone.now())


class StaffDecision(models.Model):
    """A request from outside that staff approve or reject once (join requests, reader card
    applications): its status, the reason given and who decided when."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        abstract = True

    def record_decision(self, status: str, *, by, reason: str = "", **results) -> None:
        """Store the decision with its results (e.g. the created library or card)."""
        self.status, self.decided_by, self.decided_at = status, by, timezone.now()
        fields = ["status", "decided_by", "decided_at", *results]
        if reason:
            self.reason = reason
            fields.append("reason")
        for name, value in results.items():
            setattr(self, name, value)
        self.save(update_fields=fields)


class JoinRequest(StaffDecision):
    """A school library asking to join the network below a district (or other) library."""

    school_name = models.CharField(_("school name"), max_length=200)
    library_name = models.CharField(_("library name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300)
    contact_name = models.CharField(_("contact librarian"), max_length=150)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    parent = models.ForeignKey(
        Library,
        verbose_name=_("proposed parent library"),
        on_delete=models.PROTECT,
        related_name="join_requests",
    )
    message = models.TextField(_("message"), blank=True)
    normalised_name = models.CharField(max_length=200, editable=False, db_index=True)
    library = models.OneToOneField(
        Library,
        verbose_name=_("created library"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="join_request",
    )

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["normalised_name", "parent"],
                condition=Q(status="pending"),
                name="joinrequest_one_pending_per_school",
            )
        ]

    def __str__(self):
        return self.school_name

    def save(self, *args, **kwargs):
        self.normalised_name = normalise_name(self.school_name)
        super().save(*args, **kwargs)


class NetworkPage(Page):
    """Lists the member libraries of the network, grouped by district."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["training_site.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("network page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(members_by_district())
        return context


def members_by_district() -> dict:
    """Active libraries grouped under their district, from one query.

    Returns the top (provincial) libraries, a list of (district, members below it), and the
    members that sit under no district.
    """
    libraries = list(Library.objects.active().order_by("path"))
    active_ids = {library.pk for library in libraries}
    districts = [lib for lib in libraries if lib.kind == Library.Kind.DISTRICT]
    groups = {district.pk: [] for district in districts}
    top, others = [], []
    for library in libraries:
        if library.kind == Library.Kind.DISTRICT:
            continue
        ancestor_ids = [int(part) for part in library.path.strip("/").split("/")[:-1] if part]
        if any(pk not in active_ids for pk in ancestor_ids):
            continue  # below an inactive library: not shown as a member
        district_id = next((pk for pk in reversed(ancestor_ids) if pk in groups), None)
        if district_id is not None:
            groups[district_id].append(library)
        elif library.kind == Library.Kind.PROVINCIAL or not library.parent_id:
            top.append(library)
        else:
            others.append(library)
    district_groups = [
        (district, sorted(groups[district.pk], key=lambda lib: lib.name))
        for district in sorted(districts, key=lambda lib: lib.name)
    ]
    return {"top_libraries": top, "district_groups": district_groups, "other_members": others}
