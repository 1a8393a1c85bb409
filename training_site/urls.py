from django.conf import settings
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from libraries.network import history as site_history
from training_site import health, pwa, views

urlpatterns = [
    # The installable app: its worker must be served from the root to control the whole site.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="web_manifest"),
    path("offline/", pwa.offline, name="pwa_offline"),
    # Load balancers and monitoring (docs/OPERATIONS.md); exempt from the HTTPS redirect.
    path("healthz", health.healthz, name="healthz"),
    # Wagtail's own login and password-reset forms would bypass allauth's rate limits:
    # send them to allauth's (the one login of the site).
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="account_reset_password"),
    ),
    # Site history, scoped to each staff member's libraries (libraries/network/history.py).
    path("admin/reports/site-history/", include(site_history.urlpatterns)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    # The mobile app logs in through allauth's headless API (session tokens), docs/API.md.
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("api.urls")),
    path("accounts/profile/", views.profile, name="profile"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("libraries.urls")),
    path("", include("courses.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", views.serve_media)
    )

urlpatterns.append(path("", include(wagtail_urls)))
