"""An OAI-PMH 2.0 client that is safe to point at addresses staff type in.

- Only http and https; the host must resolve to public addresses, checked again on every
  connection (redirects included, so a name that changes its answer cannot reach an inside
  address). HARVEST_ALLOWED_NETWORKS lists private networks to allow (a district's LAN, or
  127.0.0.0/8 in development and tests). No proxy from the environment.
- Every answer is read up to HARVEST_MAX_RESPONSE_BYTES; connection errors, time-outs, 429
  and 5xx answers are tried again HARVEST_RETRIES times with a growing pause (Retry-After
  is honoured up to two minutes); other HTTP errors stop the run.
- XML is parsed by lxml with no entity resolution, no DTD loading and no network; a document
  that declares a DTD is refused. When a page is not well-formed XML, its records are cut
  apart and parsed one by one, so one broken record costs that record only.
- OAI errors: noRecordsMatch is an empty list; the others raise OaiError with their code.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_O = f"{{{OAI_NS}}}"
USER_AGENT = "KnowledgeBridge-harvester/1.0"
MAX_RETRY_AFTER = 120


class HarvestError(Exception):
    """The run cannot go on (unreachable, refused, not OAI-PMH); the message is for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnsafeUrl(HarvestError):
    """The address is not one the harvester may read."""


class OaiError(HarvestError):
    """The repository answered with an OAI-PMH error (badArgument, badResumptionToken...)."""

    def __init__(self, code: str, message: str):
        super().__init__(
            _("The repository answered %(code)s: %(text)s") % {"code": code, "text": message}
        )
        self.code = code


# --------------------------------------------------------------------------- addresses


def _allowed_networks():
    return [
        ipaddress.ip_network(n, strict=False)
        for n in getattr(settings, "HARVEST_ALLOWED_NETWORKS", ())
    ]


def address_allowed(address: str) -> bool:
    """Public (globally routed) addresses, and those of HARVEST_ALLOWED_NETWORKS."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse (UnsafeUrl) anything but an http(s) URL whose host resolves to allowed addresses."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl(_("Only http:// and https:// addresses can be harvested."))
    if not parts.hostname:
        raise UnsafeUrl(_("This address has no host name."))
    if parts.username or parts.password:
        raise UnsafeUrl(_("Addresses with a user name or password are not accepted."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        raise UnsafeUrl(_("The host %(host)s cannot be found.") % {"host": parts.hostname})
    for info in infos:
        if not address_allowed(info[4][0]):
            raise UnsafeUrl(
                _(
                    "The host %(host)s is an internal address (%(address)s): the harvester "
                    "only reads public addresses."
                )
                % {"host": parts.hostname, "address": info[4][0]}
            )


class _GuardedConnection:
    """Checks the address actually connected to, after the name was resolved again."""

    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if not address_allowed(address):
            sock.close()
            raise UnsafeUrl(
                _("The host %(host)s led to an internal address (%(address)s): refused.")
                % {"host": self.host, "address": address}
            )
        return sock


class _HTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def guarded_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    session.max_redirects = 5
    session.headers["User-Agent"] = USER_AGENT
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --------------------------------------------------------------------------- answers


@dataclass
class RemoteRecord:
    identifier: str
    datestamp: str
    deleted: bool
    metadata: etree._Element | None = None
    raw: bytes = b""


@dataclass
class Page:
    records: list[RemoteRecord] = field(default_factory=list)
    token: str | None = None
    response_date: datetime.datetime | None = None
    # (identifier or "", reason) of records that could not be read at all
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Identity:
    granularity: str  # "day" or "second"
    response_date: datetime.datetime | None
    deleted_record: str


def parse_datestamp(text: str | None) -> datetime.datetime | None:
    text = (text or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.UTC)
        except ValueError:
            continue
    return None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse(data: bytes) -> etree._Element:
    root = etree.fromstring(data, _parser())
    if root.getroottree().docinfo.doctype:
        raise HarvestError(
            _("The repository's answer declares a document type (DTD); OAI-PMH answers have none.")
        )
    return root


_TEXT = re.compile(r"\s+")


def _text(element) -> str:
    return _TEXT.sub(" ", element.text or "").strip() if element is not None else ""


def _record(element) -> RemoteRecord:
    header = element if element.tag == f"{_O}header" else element.find(f"{_O}header")
    if header is None:
        raise ValueError(_("a record without a header"))
    identifier = _text(header.find(f"{_O}identifier"))
    if not identifier:
        raise ValueError(_("a record without an identifier"))
    deleted = header.get("status") == "deleted"
    metadata = None
    raw = b""
    holder = element.find(f"{_O}metadata")
    if holder is not None and not deleted:
        children = [c for c in holder if isinstance(c.tag, str)]
        if len(children) != 1:
            raise ValueError(_("the metadata element must hold exactly one record"))
        metadata = children[0]
        raw = etree.tostring(metadata)
    if not deleted and metadata is None and element.tag != f"{_O}header":
        raise ValueError(_("a record without metadata"))
    return RemoteRecord(
        identifier=identifier[:500],
        datestamp=_text(header.find(f"{_O}datestamp"))[:30],
        deleted=deleted,
        metadata=metadata,
        raw=raw,
    )


def _check_root(root) -> None:
    if root.tag != f"{_O}OAI-PMH":
        raise HarvestError(_("This address does not answer OAI-PMH (the XML root is not OAI-PMH)."))
    error = root.find(f"{_O}error")
    if error is not None:
        code = error.get("code") or "error"
        raise OaiError(code, _text(error)[:500])


def _page_from(root, verb: str) -> Page:
    _check_root(root)
    page = Page(response_date=parse_datestamp(_text(root.find(f"{_O}responseDate"))))
    body = root.find(f"{_O}{verb}")
    if body is None:
        raise HarvestError(_("The repository's answer has no %(verb)s element.") % {"verb": verb})
    for element in body:
        if element.tag in (f"{_O}record", f"{_O}header"):
            try:
                page.records.append(_record(element))
            except ValueError as exc:
                page.problems.append(("", str(exc)))
    token = body.find(f"{_O}resumptionToken")
    if token is not None and (token.text or "").strip():
        page.token = token.text.strip()
    return page


# A page that is not well-formed XML: cut it into its records and parse each alone.
_ROOT_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?OAI-PMH\b[^>]*>")
_RECORD_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?record\s*>\s*<(?:[A-Za-z_][\w.-]*:)?header\b")
_LIST_END = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?resumptionToken\b|</(?:[A-Za-z_][\w.-]*:)?List")
_TOKEN = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?resumptionToken\b[^>]*?(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?"
    rb"resumptionToken>)",
    re.DOTALL,
)
_IDENTIFIER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?identifier>\s*([^<]{1,500}?)\s*<")
_RESPONSE_DATE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?responseDate>\s*([^<]{1,40}?)\s*<")


def _salvage(data: bytes, verb: str, error: etree.XMLSyntaxError) -> Page:
    root_tag = _ROOT_TAG.search(data)
    starts = [m.start() for m in _RECORD_START.finditer(data)]
    if root_tag is None or (not starts and _TOKEN.search(data) is None):
        raise HarvestError(
            _("The repository's answer is not well-formed XML (%(e)s).") % {"e": error}
        )
    if b"<!DOCTYPE" in data[: root_tag.start()].upper():
        raise HarvestError(
            _("The repository's answer declares a document type (DTD); OAI-PMH answers have none.")
        )
    close = b"</" + root_tag.group(0)[1:].split(None, 1)[0].rstrip(b">") + b">"
    if not data.rstrip().endswith(close):
        # Cut off: whatever follows (more records, the resumption token) is lost.
        raise HarvestError(
            _("The repository's answer is not well-formed XML (%(e)s).") % {"e": error}
        )
    opening, closing = root_tag.group(0) + f"<{verb}>".encode(), f"</{verb}>".encode() + close
    page = Page()
    found = _RESPONSE_DATE.search(data)
    if found:
        page.response_date = parse_datestamp(found.group(1).decode("utf-8", "replace"))
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(data)
        chunk = data[start:end]
        if n + 1 == len(starts):
            tail = _LIST_END.search(chunk)
            chunk = chunk[: tail.start()] if tail else chunk
        try:
            wrapped = etree.fromstring(opening + chunk.strip() + closing, _parser())
            (element,) = wrapped.find(f"{_O}{verb}")
            page.records.append(_record(element))
        except (etree.XMLSyntaxError, ValueError) as exc:
            found = _IDENTIFIER.search(chunk)
            identifier = found.group(1).decode("utf-8", "replace") if found else ""
            page.problems.append((identifier, _("not well-formed XML: %(e)s") % {"e": exc}))
    token = _TOKEN.search(data)
    if token is not None and token.group(1):
        page.token = token.group(1).decode("utf-8", "replace").strip() or None
    return page


# --------------------------------------------------------------------------- the client


class OaiClient:
    """One repository. `requests` counts the HTTP requests made (retries included)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None):
        check_url(base_url)
        self.base_url = base_url.strip()
        self.session = session or guarded_session()
        self.requests = 0

    def _settings(self):
        timeout = getattr(settings, "HARVEST_TIMEOUT", (10, 120))
        retries = getattr(settings, "HARVEST_RETRIES", 3)
        delay = getattr(settings, "HARVEST_RETRY_DELAY", 5.0)
        limit = getattr(settings, "HARVEST_MAX_RESPONSE_BYTES", 32 * 1024 * 1024)
        return timeout, retries, delay, limit

    def fetch(self, params: dict) -> bytes:
        """The body of one OAI request, after bounded retries; HarvestError when it fails."""
        timeout, retries, delay, limit = self._settings()
        last, wait = "", 0.0
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(wait)
            wait = delay * 2**attempt
            self.requests += 1
            try:
                response = self.session.get(
                    self.base_url, params=params, timeout=timeout, stream=True
                )
            except requests.Timeout:
                last = _("no answer in time")
                continue
            except requests.TooManyRedirects:
                raise HarvestError(_("The repository redirects too many times."))
            except requests.RequestException as exc:
                last = _("cannot connect (%(e)s)") % {"e": exc.__class__.__name__}
                continue
            with response:
                if response.status_code == 429 or response.status_code >= 500:
                    last = _("HTTP error %(code)d") % {"code": response.status_code}
                    after = response.headers.get("Retry-After", "")
                    if after.isdigit():
                        wait = min(int(after), MAX_RETRY_AFTER)
                    continue
                if response.status_code != 200:
                    raise HarvestError(
                        _("The repository answered HTTP %(code)d.") % {"code": response.status_code}
                    )
                try:
                    return self._read(response, limit)
                except requests.RequestException:
                    last = _("the answer was cut off")
                    continue
        raise HarvestError(
            _("The repository cannot be reached after %(n)d attempts: %(last)s.")
            % {"n": retries + 1, "last": last}
        )

    @staticmethod
    def _read(response, limit: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        too_large = HarvestError(
            _("The repository's answer is larger than %(mb)d MB.") % {"mb": limit // 2**20 or 1}
        )
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _call(self, verb: str, **params) -> Page:
        data = self.fetch({"verb": verb, **{k: v for k, v in params.items() if v}})
        try:
            root = _parse(data)
        except etree.XMLSyntaxError as exc:
            if verb in ("ListRecords", "ListIdentifiers", "GetRecord"):
                return _salvage(data, verb, exc)
            raise HarvestError(
                _("The repository's answer is not well-formed XML (%(e)s).") % {"e": exc}
            )
        try:
            return _page_from(root, verb)
        except OaiError as exc:
            if exc.code == "noRecordsMatch":
                return Page(response_date=parse_datestamp(_text(root.find(f"{_O}responseDate"))))
            raise

    def identify(self) -> Identity:
        data = self.fetch({"verb": "Identify"})
        try:
            root = _parse(data)
        except etree.XMLSyntaxError as exc:
            raise HarvestError(
                _("The repository's answer is not well-formed XML (%(e)s).") % {"e": exc}
            )
        _check_root(root)
        identify = root.find(f"{_O}Identify")
        if identify is None:
            raise HarvestError(_("This address does not answer the OAI-PMH Identify request."))
        granularity = _text(identify.find(f"{_O}granularity"))
        return Identity(
            granularity="second" if "hh:mm:ss" in granularity else "day",
            response_date=parse_datestamp(_text(root.find(f"{_O}responseDate"))),
            deleted_record=_text(identify.find(f"{_O}deletedRecord")),
        )

    def list_records(
        self, *, prefix: str, set_spec: str = "", from_: str = "", until: str = ""
    ) -> Iterator[Page]:
        """Every page of ListRecords, following resumption tokens (a repeated token stops)."""
        page = self._call(
            "ListRecords", metadataPrefix=prefix, set=set_spec, until=until, **{"from": from_}
        )
        seen = set()
        while True:
            yield page
            if not page.token:
                return
            if page.token in seen:
                raise HarvestError(_("The repository sent the same resumption token twice."))
            seen.add(page.token)
            page = self._call("ListRecords", resumptionToken=page.token)

    def get_record(self, *, identifier: str, prefix: str) -> Page:
        return self._call("GetRecord", identifier=identifier, metadataPrefix=prefix)
