"""The digital collection for reading apps: an OPDS 1.2 catalog at /opds/ (Atom feeds).

Thorium Reader, KOReader, Aldiko and other reading apps browse it: a root navigation feed
(new titles, by subject, by library), paginated acquisition feeds (RFC 5005 first, previous,
next, last), an OpenSearch description and its search (the catalog's accent-insensitive
search, libraries/catalog/search.py), entries with authors, summary, language, subjects,
cover and acquisition links: open access to download, lending to borrow.

Reading apps log in with HTTP Basic over the reader's own account (username or email and
password, checked by allauth like the login form, and counted in the same failed-login
limits: per account and per address). Nothing of a session is made: no cookie is set.
Wrong credentials, or none where an account is needed, get 401 with WWW-Authenticate and the
OPDS Authentication Document (linked from every feed). A successful check is remembered in
the cache for a few minutes under a keyed hash of the credentials, so that an app sending
them with every cover does not cost a password hash each time; a changed password ends it.

A feed lists a file only to those who may acquire it (libraries/access.py): open files to
everyone; lending files to visitors (who log in to borrow) and to readers who may borrow
them; files for members or card holders only to those who may read them.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import derive_login_method
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Min, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from lxml import etree

from libraries import access
from libraries.catalog.oai import repository_host
from libraries.catalog.search import Query, ranked_ids
from libraries.digital import services
from libraries.digital.metadata import MARC_LANGUAGES
from libraries.digital.services import DigitalError
from libraries.digital.views import signed_url
from libraries.models import DigitalFile, DigitalLoan, Library, Patron, Record
from training_site.text import fold

ATOM = "http://www.w3.org/2005/Atom"
DCTERMS = "http://purl.org/dc/terms/"
OPDS = "http://opds-spec.org/2010/catalog"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
NSMAP = {None: ATOM, "dcterms": DCTERMS, "opds": OPDS, "opensearch": OPENSEARCH}

NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
AUTH_TYPE = "application/opds-authentication+json"
REL_ACQUIRE = "http://opds-spec.org/acquisition"
REL_OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
REL_BORROW = "http://opds-spec.org/acquisition/borrow"
REL_IMAGE = "http://opds-spec.org/image"
REL_THUMBNAIL = "http://opds-spec.org/image/thumbnail"
REL_AUTH = "http://opds-spec.org/auth/document"
REL_NEW = "http://opds-spec.org/sort/new"
BASIC = "http://opds-spec.org/auth/basic"

PAGE_SIZE = 25
CREDENTIALS_SECONDS = 300
COVER_SIZES = {"large": "max-600x900|format-jpeg", "thumbnail": "max-200x300|format-jpeg"}
ISO_639_1 = {marc: short for short, marc in MARC_LANGUAGES.items()}


# --------------------------------------------------------------------------- who is asking


class Refusal(Exception):
    """Answer with `response` instead of the page."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def _realm() -> str:
    return settings.WAGTAIL_SITE_NAME


# HTTP headers are ASCII: the realm a reading app shows in its login box.
REALM = "Knowledge Bridge"


def authentication_document(request) -> dict:
    """The OPDS Authentication Document: HTTP Basic over the reader's account."""
    return {
        "id": request.build_absolute_uri(reverse("libraries:opds_authentication")),
        "title": _realm(),
        "description": _(
            "Log in with the username (or email address) and password of your account on the "
            "library network's website."
        ),
        "links": [
            {
                "rel": "register",
                "href": request.build_absolute_uri(reverse("account_signup")),
                "type": "text/html",
            },
            {"rel": "help", "href": request.build_absolute_uri("/"), "type": "text/html"},
        ],
        "authentication": [
            {
                "type": BASIC,
                "labels": {"login": _("Username or email"), "password": _("Password")},
            }
        ],
    }


def _unauthorised(request) -> HttpResponse:
    body = json.dumps(authentication_document(request), ensure_ascii=False)
    response = HttpResponse(body, status=401, content_type=AUTH_TYPE)
    response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    response["Cache-Control"] = "no-store"
    return response


def _plain(message: str, status: int) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def basic_credentials(request) -> tuple[str, str] | None:
    """(login, password) from an `Authorization: Basic` header, None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _space, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    login, _colon, password = decoded.partition(":")
    return login.strip(), password


def _remembered_key(login: str, password: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{login}\0{password}".encode(), hashlib.sha256
    ).hexdigest()
    return f"kb:opds:basic:{digest}"


def _password_mark(user) -> str:
    return hashlib.sha256(user.password.encode()).hexdigest()


def _may_log_in(user) -> bool:
    """As the login form: active, and an email address verified unless the account has none
    (students made by their teacher)."""
    if not user.is_active:
        return False
    addresses = EmailAddress.objects.filter(user=user)
    if not user.email and not addresses.exists():
        return True
    return addresses.filter(verified=True).exists()


def authenticate_basic(request):
    """The account named by the request's Basic credentials, AnonymousUser without any.
    Raises Refusal: 401 for wrong credentials, 429 when the login limits are reached."""
    credentials = basic_credentials(request)
    if credentials is None:
        return AnonymousUser()
    login, password = credentials
    if not login or not password:
        raise Refusal(_unauthorised(request))
    key = _remembered_key(login, password)
    remembered = cache.get(key)
    if remembered:
        user = get_user_model().objects.filter(pk=remembered[0], is_active=True).first()
        if user is not None and hmac.compare_digest(remembered[1], _password_mark(user)):
            return user
        cache.delete(key)
    method = derive_login_method(login)
    fields = {method: login, "password": password}
    if method != "username":
        fields["username"] = login
    # The login form's failed-login limits (per account, then per address), under the same
    # key as the form (training_site/accounts.py); allauth counts POSTs only, apps send GETs.
    usage = ratelimit.consume(
        request,
        app="allauth.account",
        action="login_failed",
        key=get_adapter(request)._get_login_attempts_cache_key(request, **fields),
        limit_get=True,
    )
    if not usage:
        raise Refusal(_plain(_("Too many failed logins. Please try again later."), status=429))
    user = authenticate(request, **fields)
    if user is not None:
        usage.rollback()  # as allauth does: a success takes back its own try only
    if user is None or not _may_log_in(user):
        raise Refusal(_unauthorised(request))
    cache.set(key, (user.pk, _password_mark(user)), CREDENTIALS_SECONDS)
    return user


def _caller(request):
    user = authenticate_basic(request)
    # Only the header counts: a browser session is not used, and none is made.
    request.opds_user = user
    return user


def opds_view(view):
    """Resolve the Basic caller first; refusals are answered as they are."""

    def wrapped(request, *args, **kwargs):
        try:
            _caller(request)
            response = view(request, *args, **kwargs)
        except Refusal as refusal:
            return refusal.response
        patch_vary_headers(response, ["Authorization"])
        response.setdefault("Cache-Control", "private, no-cache")
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


# --------------------------------------------------------------------------- what is listed


def _card_in_use(patron: Patron | None) -> bool:
    return (
        patron is not None
        and patron.status == Patron.Status.ACTIVE
        and not patron.is_expired()
        and patron.home_library.is_active
    )


def _ancestor_ids(library: Library) -> list[int]:
    return [int(part) for part in library.path.strip("/").split("/") if part]


def _lending_libraries_for(patron: Patron | None) -> list[int]:
    """Libraries whose lending files `patron` may borrow (access.may_borrow_digital, asked
    once per library with one of its lending files)."""
    if patron is None:
        return []
    firsts = (
        DigitalFile.objects.lending().values("library_id").annotate(first=Min("pk")).values("first")
    )
    files = DigitalFile.objects.filter(pk__in=firsts).select_related("library")
    return [f.library_id for f in files if access.may_borrow_digital(patron, f)]


@dataclass
class Viewer:
    user: object
    patron: Patron | None
    loans: set[int]  # files on loan to the reader now

    @property
    def logged_in(self) -> bool:
        return bool(self.user and self.user.is_authenticated)


def viewer_of(request) -> Viewer:
    user = request.opds_user
    patron = access.reader_card_of(user) if user.is_authenticated else None
    loans = set()
    if patron is not None:
        loans = set(
            DigitalLoan.objects.open()
            .filter(patron=patron, due_at__gt=timezone.now())
            .values_list("file_id", flat=True)
        )
    return Viewer(user=user, patron=patron, loans=loans)


def listed_files(viewer: Viewer):
    """The files a reading app shows to the viewer (see the module's docstring)."""
    visible = Q(access=DigitalFile.Access.OPEN)
    if not viewer.logged_in:
        visible |= Q(access=DigitalFile.Access.LENDING)
        return DigitalFile.objects.filter(visible)
    user, patron = viewer.user, viewer.patron
    if access.is_superuser(user):
        return DigitalFile.objects.all()
    if access.is_network_member(user):
        visible |= Q(access=DigitalFile.Access.MEMBERS)
    if _card_in_use(patron):
        visible |= Q(
            access=DigitalFile.Access.CARDHOLDERS,
            cardholder_libraries__in=_ancestor_ids(patron.home_library),
        )
    lending = _lending_libraries_for(patron)
    if lending:
        visible |= Q(access=DigitalFile.Access.LENDING, library_id__in=lending)
    if viewer.loans:
        visible |= Q(pk__in=viewer.loans)
    visible |= access.library_filter(user, "library")
    return DigitalFile.objects.filter(pk__in=DigitalFile.objects.filter(visible).values("pk"))


def _acquisition(viewer: Viewer, file: DigitalFile) -> tuple[str, str] | None:
    """(rel, url name) of the entry's acquisition link, None if the viewer has none."""
    if file.is_open:
        return REL_OPEN_ACCESS, "libraries:opds_download"
    if file.is_lending:
        if file.pk in viewer.loans or (
            viewer.logged_in and access.may_manage_digital(viewer.user, file)
        ):
            return REL_ACQUIRE, "libraries:opds_download"
        if not viewer.logged_in or access.may_borrow_digital(viewer.patron, file):
            return REL_BORROW, "libraries:opds_borrow"
        return None
    if viewer.logged_in and access.may_read_digital(viewer.user, file):
        return REL_ACQUIRE, "libraries:opds_download"
    return None


# --------------------------------------------------------------------------- Atom


def _text(value) -> str:
    """Text safe for XML 1.0 (control characters of old MARC data dropped)."""
    return "".join(
        ch for ch in str(value) if ch in "\t\n\r" or (ch >= " " and ch not in "\ufffe\uffff")
    )


def _sub(parent, tag: str, text=None, **attributes):
    element = etree.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _stamp(moment) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(kind: str, key) -> str:
    return f"tag:{repository_host()},2026:{kind}/{key}"


class Feed:
    """One Atom feed document of the catalog."""

    def __init__(self, request, *, kind: str, title: str, key: str, up: str | None = None):
        self.request = request
        self.kind = kind
        self.root = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)
        _sub(self.root, f"{{{ATOM}}}id", _tag("opds", key))
        _sub(self.root, f"{{{ATOM}}}title", title)
        self.updated = _sub(self.root, f"{{{ATOM}}}updated", _stamp(timezone.now()))
        author = _sub(self.root, f"{{{ATOM}}}author")
        _sub(author, f"{{{ATOM}}}name", _realm())
        _sub(author, f"{{{ATOM}}}uri", request.build_absolute_uri("/"))
        self.link("self", request.get_full_path(), kind)
        self.link("start", reverse("libraries:opds_root"), NAVIGATION)
        if up:
            self.link("up", up, NAVIGATION)
        self.link("search", reverse("libraries:opds_opensearch"), OPENSEARCH_TYPE)
        self.link(REL_AUTH, reverse("libraries:opds_authentication"), AUTH_TYPE)
        self.latest = None

    def url(self, path: str) -> str:
        return self.request.build_absolute_uri(path)

    def link(self, rel: str, href: str, type_: str, parent=None, **extra):
        return _sub(
            self.root if parent is None else parent,
            f"{{{ATOM}}}link",
            rel=rel,
            href=self.url(href),
            type=type_,
            **extra,
        )

    def touch(self, moment) -> None:
        if self.latest is None or moment > self.latest:
            self.latest = moment
            self.updated.text = _stamp(moment)

    def navigation(self, *, key: str, title: str, href: str, kind: str, summary: str, rel=None):
        entry = _sub(self.root, f"{{{ATOM}}}entry")
        _sub(entry, f"{{{ATOM}}}title", title)
        _sub(entry, f"{{{ATOM}}}id", _tag("opds", key))
        _sub(entry, f"{{{ATOM}}}updated", self.updated.text)
        self.link(rel or "subsection", href, kind, parent=entry)
        _sub(entry, f"{{{ATOM}}}content", summary, type="text")
        return entry

    def pages(self, page: Page) -> None:
        def at(number: int) -> str:
            query = {**self.request.GET.dict(), "page": number}
            return f"{self.request.path}?{urlencode(query)}"

        self.link("first", at(1), self.kind)
        if page.number > 1:
            self.link("previous", at(page.number - 1), self.kind)
        if page.number < page.count:
            self.link("next", at(page.number + 1), self.kind)
        self.link("last", at(page.count), self.kind)
        _sub(self.root, f"{{{OPENSEARCH}}}totalResults", page.total)
        _sub(self.root, f"{{{OPENSEARCH}}}itemsPerPage", PAGE_SIZE)
        _sub(self.root, f"{{{OPENSEARCH}}}startIndex", (page.number - 1) * PAGE_SIZE + 1)

    def book(self, viewer: Viewer, file: DigitalFile, acquisition: tuple[str, str]) -> None:
        record = file.record
        entry = _sub(self.root, f"{{{ATOM}}}entry")
        title = f"{record.title} — {file.label}" if file.label else record.title
        _sub(entry, f"{{{ATOM}}}title", title)
        _sub(entry, f"{{{ATOM}}}id", _tag("digital-file", file.pk))
        updated = max(file.updated_at, record.updated_at)
        self.touch(updated)
        _sub(entry, f"{{{ATOM}}}updated", _stamp(updated))
        for name in (n.strip() for n in record.authors.split(";")):
            if name:
                _sub(_sub(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", name)
        language = ISO_639_1.get(record.language, record.language)
        if language:
            _sub(entry, f"{{{DCTERMS}}}language", language)
        if record.publisher:
            _sub(entry, f"{{{DCTERMS}}}publisher", record.publisher)
        if record.year:
            _sub(entry, f"{{{DCTERMS}}}issued", record.year)
        if record.isbn:
            _sub(entry, f"{{{DCTERMS}}}identifier", f"urn:isbn:{record.isbn}")
        for subject in record.subject_list:
            _sub(entry, f"{{{ATOM}}}category", term=subject, label=subject)
        if record.summary:
            _sub(entry, f"{{{ATOM}}}summary", record.summary, type="text")
        _sub(
            entry,
            f"{{{ATOM}}}content",
            f"{file.get_kind_display()} · {file.library.name} · {file.get_access_display()}",
            type="text",
        )
        if file.cover_id:
            cover = reverse("libraries:opds_cover", args=[file.pk])
            self.link(REL_IMAGE, cover, "image/jpeg", parent=entry)
            self.link(REL_THUMBNAIL, f"{cover}?size=thumbnail", "image/jpeg", parent=entry)
        self.link(
            "alternate",
            reverse("libraries:record_detail", args=[record.pk]),
            "text/html",
            parent=entry,
        )
        rel, url_name = acquisition
        self.link(rel, reverse(url_name, args=[file.pk]), file.content_type, parent=entry)

    def response(self) -> HttpResponse:
        body = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")
        return HttpResponse(body, content_type=f"{self.kind};charset=utf-8")


@dataclass
class Page:
    number: int
    count: int
    total: int
    items: list


def paginate(request, items) -> Page:
    """`items` (a queryset or a list) cut into pages of PAGE_SIZE; ?page=N, 1 first."""
    total = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    count = max(1, -(-total // PAGE_SIZE))
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    number = min(max(1, number), count)
    start = (number - 1) * PAGE_SIZE
    return Page(
        number=number, count=count, total=total, items=list(items[start : start + PAGE_SIZE])
    )


def _with_details(files):
    return files.select_related("record", "library").prefetch_related("cardholder_libraries")


def _acquisition_feed(request, *, key, title, files, up=None) -> HttpResponse:
    """An acquisition feed of `files` (ordered file ids or an ordered queryset)."""
    viewer = viewer_of(request)
    feed = Feed(request, kind=ACQUISITION, title=title, key=key, up=up)
    page = paginate(request, files)
    if page.items and not isinstance(page.items[0], DigitalFile):
        found = _with_details(DigitalFile.objects.filter(pk__in=page.items)).in_bulk()
        shown = [found[pk] for pk in page.items if pk in found]
    else:
        shown = page.items
    feed.pages(page)
    for file in shown:
        acquisition = _acquisition(viewer, file)
        if acquisition is not None:
            feed.book(viewer, file, acquisition)
    return feed.response()


# --------------------------------------------------------------------------- the feeds


@require_GET
@opds_view
def root(request):
    """The catalog's start: new titles, by subject, by library."""
    feed = Feed(request, kind=NAVIGATION, title=_("Digital library"), key="root")
    feed.navigation(
        key="new",
        title=_("New titles"),
        href=reverse("libraries:opds_new"),
        kind=ACQUISITION,
        summary=_("E-books and documents most recently added to the network."),
        rel=REL_NEW,
    )
    feed.navigation(
        key="subjects",
        title=_("By subject"),
        href=reverse("libraries:opds_subjects"),
        kind=NAVIGATION,
        summary=_("E-books and documents by subject."),
    )
    feed.navigation(
        key="libraries",
        title=_("By library"),
        href=reverse("libraries:opds_libraries"),
        kind=NAVIGATION,
        summary=_("E-books and documents by the library that offers them."),
    )
    return feed.response()


@require_GET
@opds_view
def new_titles(request):
    files = _with_details(listed_files(viewer_of(request))).order_by("-created_at", "-pk")
    return _acquisition_feed(
        request,
        key="new",
        title=_("New titles"),
        files=files,
        up=reverse("libraries:opds_root"),
    )


def _subject_counts(files) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in Record.objects.filter(pk__in=files.values("record_id")).values_list(
        "subjects", flat=True
    ):
        for subject in {line.strip() for line in text.splitlines() if line.strip()}:
            counts[subject] = counts.get(subject, 0) + 1
    return counts


@require_GET
@opds_view
def subjects(request):
    counts = _subject_counts(listed_files(viewer_of(request)))
    names = sorted(counts, key=lambda name: (fold(name), name))
    feed = Feed(
        request,
        kind=NAVIGATION,
        title=_("By subject"),
        key="subjects",
        up=reverse("libraries:opds_root"),
    )
    page = paginate(request, names)
    feed.pages(page)
    for name in page.items:
        feed.navigation(
            key=f"subject/{hashlib.sha256(name.encode()).hexdigest()[:16]}",
            title=name,
            href=f"{reverse('libraries:opds_subject')}?{urlencode({'name': name})}",
            kind=ACQUISITION,
            summary=_("%(count)s titles") % {"count": counts[name]},
        )
    return feed.response()


@require_GET
@opds_view
def subject(request):
    name = request.GET.get("name", "").strip()
    if not name:
        raise Http404
    candidates = listed_files(viewer_of(request)).filter(record__subjects__contains=name)
    rows = candidates.order_by("-created_at", "-pk").values_list("pk", "record__subjects")
    ids = [pk for pk, text in rows if name in {line.strip() for line in text.splitlines()}]
    return _acquisition_feed(
        request,
        key=f"subject/{hashlib.sha256(name.encode()).hexdigest()[:16]}",
        title=name,
        files=ids,
        up=reverse("libraries:opds_subjects"),
    )


@require_GET
@opds_view
def libraries(request):
    files = listed_files(viewer_of(request))
    owners = Library.objects.filter(pk__in=files.values("library_id")).order_by("name")
    feed = Feed(
        request,
        kind=NAVIGATION,
        title=_("By library"),
        key="libraries",
        up=reverse("libraries:opds_root"),
    )
    page = paginate(request, owners)
    feed.pages(page)
    for library in page.items:
        feed.navigation(
            key=f"library/{library.code}",
            title=library.name,
            href=reverse("libraries:opds_library", args=[library.code]),
            kind=ACQUISITION,
            summary=_("E-books and documents of %(library)s.") % {"library": library.name},
        )
    return feed.response()


@require_GET
@opds_view
def library(request, code: str):
    owner = get_object_or_404(Library, code=code.upper())
    files = _with_details(listed_files(viewer_of(request)).filter(library=owner))
    return _acquisition_feed(
        request,
        key=f"library/{owner.code}",
        title=owner.name,
        files=files.order_by("-created_at", "-pk"),
        up=reverse("libraries:opds_libraries"),
    )


@require_GET
@opds_view
def search_feed(request):
    """Search through the catalog's search: without accents, words inside open books too."""
    text = request.GET.get("q", "").strip()[:200]
    ids: list[int] = []
    if text:
        ranked = ranked_ids(Query(text=text))
        order = {pk: position for position, pk in enumerate(ranked)}
        rows = listed_files(viewer_of(request)).filter(record_id__in=ranked)
        pairs = rows.values_list("pk", "record_id")
        ids = [pk for pk, record in sorted(pairs, key=lambda p: (order[p[1]], p[0]))]
    return _acquisition_feed(
        request,
        key=f"search/{hashlib.sha256(text.encode()).hexdigest()[:16]}",
        title=_("Search: %(text)s") % {"text": text},
        files=ids,
        up=reverse("libraries:opds_root"),
    )


@require_GET
def opensearch(request):
    """The OpenSearch description document of the catalog's search."""
    root_element = etree.Element(f"{{{OPENSEARCH}}}OpenSearchDescription", nsmap={None: OPENSEARCH})
    _sub(root_element, f"{{{OPENSEARCH}}}ShortName", _("Digital library")[:16])
    _sub(root_element, f"{{{OPENSEARCH}}}Description", _("Search the network's e-books."))
    _sub(root_element, f"{{{OPENSEARCH}}}InputEncoding", "UTF-8")
    _sub(root_element, f"{{{OPENSEARCH}}}OutputEncoding", "UTF-8")
    template = request.build_absolute_uri(reverse("libraries:opds_search")) + "?q={searchTerms}"
    _sub(root_element, f"{{{OPENSEARCH}}}Url", type=ACQUISITION, template=template)
    body = etree.tostring(root_element, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, content_type=f"{OPENSEARCH_TYPE};charset=utf-8")


@require_GET
def authentication(request):
    """The OPDS Authentication Document."""
    body = json.dumps(authentication_document(request), ensure_ascii=False)
    return HttpResponse(body, content_type=AUTH_TYPE)


# --------------------------------------------------------------------------- acquisitions


def _file_or_404(pk: int) -> DigitalFile:
    return get_object_or_404(DigitalFile.objects.select_related("library", "record"), pk=pk)


def _to_bytes(user, file: DigitalFile) -> HttpResponse:
    response = HttpResponseRedirect(signed_url(user, file, download=True))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@opds_view
def download(request, pk: int):
    """The file itself (through its signed address) for whoever may read it."""
    file = _file_or_404(pk)
    user = request.opds_user
    if not access.may_read_digital(user, file):
        if not user.is_authenticated:
            return _unauthorised(request)
        if file.is_lending:
            return _plain(_("Borrow this book first."), status=403)
        return _plain(_("You may not read this file."), status=403)
    return _to_bytes(user, file)


@require_http_methods(["GET", "POST"])
@opds_view
def borrow(request, pk: int):
    """Borrow a licence with the reader's account, then send the file. Reading apps follow
    acquisition links with GET; a page of another site cannot make a browser do it."""
    if request.headers.get("Sec-Fetch-Site", "") in ("cross-site", "same-site"):
        return _plain(_("Borrow from a reading app or from the book's page."), status=403)
    file = _file_or_404(pk)
    user = request.opds_user
    if not user.is_authenticated:
        return _unauthorised(request)
    if not file.is_lending:
        raise Http404
    if not access.may_read_digital(user, file):
        try:
            services.borrow(file=file, by=user)
        except DigitalError as error:
            return _plain(error.message, status=409 if error.code == "no_licence" else 403)
    return _to_bytes(user, file)


@require_GET
@opds_view
def cover(request, pk: int):
    """A file's cover as JPEG, for those to whom the file is listed."""
    file = _file_or_404(pk)
    user = request.opds_user
    public = file.access in (DigitalFile.Access.OPEN, DigitalFile.Access.LENDING)
    if file.cover is None or not (public or access.may_read_digital(user, file)):
        raise Http404
    size = "thumbnail" if request.GET.get("size") == "thumbnail" else "large"
    rendition = file.cover.get_rendition(COVER_SIZES[size])
    response = FileResponse(rendition.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
