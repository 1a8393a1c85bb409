from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.fields import RichTextField
from wagtail.models import Page


class User(AbstractUser):
    """A person using the site. Students may have no email: their teacher creates the account."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="vi"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        return self.display_name or super().get_full_name()


class HomePage(Page):
    """The front door: training, catalog search, member libraries and the join link."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        """Each app adds its part of the front door through the `home_page_context` hook."""
        context = super().get_context(request, *args, **kwargs)
        for contribute in hooks.get_hooks("home_page_context"):
            context.update(contribute(request))
        return context
