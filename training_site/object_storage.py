"""Uploaded files on S3-compatible object storage (django-storages), so that no application
server keeps a file of its own. Chosen by MEDIA_STORAGE=s3 in the production settings
(docs/SCALING.md, "Files on object storage").

- PublicMediaStorage (STORAGES["default"]): what pages show, H5P content and libraries,
  images, documents. Each object carries the headers /media/ has always sent
  (training_site/views.py, `media_headers`): HTML, SVG, XML and scripts outside the H5P library
  folders are stored as downloads, so no front (nginx at /media/, a CDN) can serve them as a page
  of the site. Addresses stay under MEDIA_URL on the site's own origin (nginx passes /media/ to
  the bucket), so the H5P player, the Content-Security-Policy and the offline cache are unchanged.
- PrivateMediaStorage (STORAGES["private"]): MARC imports and e-books. Objects are private;
  their only addresses are presigned and live a few seconds (`querystring_expire`).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from training_site.views import media_headers

# media_headers' names -> the object's stored HTTP headers (S3 keeps these few, not CSP:
# the front adds X-Content-Type-Options and Content-Security-Policy, README.md, Production).
STORED_HEADERS = {"Content-Type": "ContentType", "Content-Disposition": "ContentDisposition"}


class PublicMediaStorage(S3Storage):
    def _relative(self, name: str) -> str:
        location = self.location.strip("/")
        if location and name.startswith(f"{location}/"):
            return name[len(location) + 1 :]
        return name

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        headers = media_headers(self._relative(name))
        params.update(
            {key: headers[header] for header, key in STORED_HEADERS.items() if header in headers}
        )
        return params

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        if self.custom_domain:
            return super().url(name, parameters, expire, http_method)
        return f"{settings.MEDIA_URL}{filepath_to_uri(clean_name(name))}"


class PrivateMediaStorage(S3Storage):
    def signed_url(
        self, name: str, *, content_type: str, disposition: str, seconds: int | None = None
    ) -> str:
        """A presigned GET of one object, answered with these headers (S3's response-content-*
        parameters are part of the signature); it lives `seconds`, by default
        `querystring_expire` (AWS_QUERYSTRING_EXPIRE)."""
        return self.url(
            name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": "private, no-store",
            },
            expire=seconds,
        )
