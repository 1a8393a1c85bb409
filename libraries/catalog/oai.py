"""OAI-PMH 2.0 data provider at /oai/: the union catalog for harvesters.

Six verbs, two formats (oai_dc, and marc21: the MARCXML of the stored record as the MARC
export writes it, with one Koha-style 952 per copy held by an active library: $a/$b its
library's code, $9 item number, $o call number, $p barcode, $y item type, and Koha's status
subfields $0 withdrawn, $1 lost (4: missing), $4 damaged, $7 not for loan (-1: in process)),
sets per library (library:CODE) and per district (district:CODE, every library of its
subtree), datestamps to the second, persistent deleted records (the DeletedRecord tombstones)
and stateless signed resumption tokens that expire.

A record's datestamp is its updated_at, which the item services move when a copy is added,
changed or withdrawn (catalog/services.py: save_item, touch_records), so an incremental
harvest also sees changed holdings.

Lists page through records in (updated_at, id) order (an index), then through tombstones in
(deleted_at, record_id) order; the token carries the query and the last key seen, so a page
is one index range scan whatever the harvest's position.
"""

import datetime
import re
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pymarc
from django.conf import settings
from django.core import signing
from django.db.models import Min, Prefetch, Q, prefetch_related_objects
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from libraries.catalog.marc import record_to_marc
from libraries.models import DigitalFile, Item, Library, Record
from libraries.models.catalog import DeletedRecord, oai_sets_of

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
FORMATS = {
    "oai_dc": (
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
    "marc21": (
        "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        "http://www.loc.gov/MARC21/slim",
    ),
}
VERBS = {
    # verb: (required, optional) arguments besides verb; resumptionToken is exclusive.
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
}
TOKEN_SALT = "libraries.catalog.oai.resumption"  # noqa: S105 - a signing salt
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def page_size() -> int:
    return getattr(settings, "OAI_PAGE_SIZE", 200)


def token_max_age() -> int:
    """Seconds a resumption token stays valid."""
    return getattr(settings, "OAI_TOKEN_MAX_AGE", 24 * 3600)


def repository_host() -> str:
    """The stable repository identifier in every OAI identifier (oai:HOST:record/ID)."""
    configured = getattr(settings, "OAI_REPOSITORY_IDENTIFIER", "")
    return configured or urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "localhost"


def identifier_of(record_id: int) -> str:
    return f"oai:{repository_host()}:record/{record_id}"


def record_id_of(identifier: str) -> int | None:
    prefix = f"oai:{repository_host()}:record/"
    rest = identifier[len(prefix) :] if identifier.startswith(prefix) else ""
    return int(rest) if rest.isdigit() and len(rest) < 12 else None


class OaiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- XML text


def esc(value) -> str:
    text = _INVALID_XML.sub("", str(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(request, args: dict, body: str) -> HttpResponse:
    attrs = "".join(f' {k}="{esc(v)}"' for k, v in sorted(args.items()))
    base = esc(request.build_absolute_uri(reverse("libraries:oai")))
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
        f"<responseDate>{stamp(timezone.now())}</responseDate>\n"
        f"<request{attrs}>{base}</request>\n{body}</OAI-PMH>\n"
    )
    return HttpResponse(text.encode("utf-8"), content_type="text/xml; charset=utf-8")


# --------------------------------------------------------------------------- arguments


def _parse_date(value: str, *, until: bool) -> tuple[datetime.datetime, str]:
    """A from/until argument as an aware bound; until is returned exclusive (+1 day/second)."""
    if _DAY.match(value):
        fmt, step, grain = "%Y-%m-%d", datetime.timedelta(days=1), "day"
    elif _SECOND.match(value):
        fmt, step, grain = "%Y-%m-%dT%H:%M:%SZ", datetime.timedelta(seconds=1), "second"
    else:
        raise OaiError("badArgument", _("Dates must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ."))
    try:
        moment = datetime.datetime.strptime(value, fmt).replace(tzinfo=datetime.UTC)
    except ValueError as exc:
        raise OaiError("badArgument", _("This date does not exist: %s") % value) from exc
    return (moment + step if until else moment), grain


def _check_prefix(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OaiError(
            "cannotDisseminateFormat",
            _("This repository offers oai_dc and marc21, not %s.") % prefix,
        )


def _set_filters(spec: str | None) -> tuple[Q, Q] | None:
    """(filter on records, filter on tombstones) for a set, None if no such set."""
    if not spec:
        return Q(), Q()
    libraries = Library.objects.active()
    if spec == "library":
        return Q(pk__in=Item.objects.filter(library__in=libraries).values("record_id")), Q(
            set_specs__contains=" library:"
        )
    if spec == "district":
        paths = libraries.filter(kind=Library.Kind.DISTRICT).values_list("path", flat=True)
        held = Item.objects.filter(library__in=libraries.subtrees_of(list(paths)))
        return Q(pk__in=held.values("record_id")), Q(set_specs__contains=" district:")
    kind, _sep, code = spec.partition(":")
    if kind == "library":
        library = libraries.filter(code=code).first()
        if library is None:
            return None
        held = Item.objects.filter(library=library)
    elif kind == "district":
        library = libraries.filter(code=code, kind=Library.Kind.DISTRICT).first()
        if library is None:
            return None
        held = Item.objects.filter(library__in=libraries.subtree_of(library))
    else:
        return None
    return Q(pk__in=held.values("record_id")), Q(set_specs__contains=f" {spec} ")


# --------------------------------------------------------------------------- metadata


def _dc(record: Record, request) -> str:
    parts = ['<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
             'xmlns:dc="http://purl.org/dc/elements/1.1/" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
             'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">']  # fmt: skip

    def add(name: str, value) -> None:
        if value not in (None, ""):
            parts.append(f"<dc:{name}>{esc(value)}</dc:{name}>")

    add("title", f"{record.title}: {record.subtitle}" if record.subtitle else record.title)
    for author in record.authors.split(";"):
        add("creator", author.strip())
    for subject in record.subject_list:
        add("subject", subject)
    add("description", record.summary)
    add("publisher", record.publisher)
    add("date", record.year)
    add("type", "Text")
    if record.isbn:
        add("identifier", f"ISBN:{record.isbn}")
    page = reverse("libraries:record_detail", args=[record.pk])
    add("identifier", request.build_absolute_uri(page))
    add("language", record.language)
    parts.append("</oai_dc:dc>")
    return "".join(parts)


# Koha's item status subfields (authorised values LOST 4 = missing, NOT_LOAN -1 = ordered).
_STATUS_SUBFIELDS = {
    Item.Status.WITHDRAWN: ("0", "1"),
    Item.Status.LOST: ("1", "1"),
    Item.Status.MISSING: ("1", "4"),
    Item.Status.DAMAGED: ("4", "1"),
    Item.Status.IN_PROCESS: ("7", "-1"),
}


def _holdings_of(record_ids) -> dict[int, list[Item]]:
    """The copies of active libraries, per record, in one query."""
    found: dict[int, list[Item]] = {}
    items = (
        Item.objects.filter(record_id__in=record_ids, library__is_active=True)
        .select_related("library")
        .order_by("record_id", "pk")
    )
    for item in items:
        found.setdefault(item.record_id, []).append(item)
    return found


def _holding_field(item: Item) -> pymarc.Field:
    """One copy as Koha writes it in 952 (subfields in code order, as Koha sorts them)."""
    codes = [_STATUS_SUBFIELDS[item.status]] if item.status in _STATUS_SUBFIELDS else []
    codes += [("9", str(item.pk)), ("a", item.library.code), ("b", item.library.code)]
    if item.call_number:
        codes.append(("o", item.call_number))
    codes += [("p", item.barcode), ("y", item.item_type)]
    return pymarc.Field(
        tag="952", indicators=[" ", " "], subfields=[pymarc.Subfield(c, v) for c, v in codes]
    )


def _marcxml(record: Record, items: list[Item]) -> str:
    marc = record_to_marc(record)  # without a library: no 852/952 of the stored MARC
    for item in items:
        marc.add_ordered_field(_holding_field(item))
    node = pymarc.record_to_xml_node(marc, namespace=True)
    xml = ElementTree.tostring(node, encoding="unicode")
    return _INVALID_XML.sub("", xml)


def _header(record_id: int, moment, specs, *, deleted: bool = False) -> str:
    status = ' status="deleted"' if deleted else ""
    sets = "".join(f"<setSpec>{esc(s)}</setSpec>" for s in specs)
    return (
        f"<header{status}><identifier>{esc(identifier_of(record_id))}</identifier>"
        f"<datestamp>{stamp(moment)}</datestamp>{sets}</header>"
    )


def _records_xml(records, tombstones, *, prefix: str | None, request) -> str:
    """Headers (prefix None) or whole records for live records then tombstones. Headers
    name the sets of active libraries only, as ListSets does."""
    active = set(Library.objects.active().values_list("code", flat=True))

    def shown(specs):
        return [s for s in specs if s.partition(":")[2] in active]

    sets = oai_sets_of([r.pk for r in records]) if records else {}
    holdings = {}
    if records and prefix == "marc21":
        holdings = _holdings_of([r.pk for r in records])
        # record_to_marc adds an 856 per digital file: read them for the page at once.
        files = DigitalFile.objects.select_related("library").order_by("pk")
        prefetch_related_objects(
            records, Prefetch("digital_files", queryset=files, to_attr="digital_list")
        )
    out = []
    for record in records:
        header = _header(record.pk, record.updated_at, shown(sets.get(record.pk, [])))
        if prefix is None:
            out.append(header)
        elif prefix == "oai_dc":
            out.append(f"<record>{header}<metadata>{_dc(record, request)}</metadata></record>")
        else:
            meta = _marcxml(record, holdings.get(record.pk, []))
            out.append(f"<record>{header}<metadata>{meta}</metadata></record>")
    for gone in tombstones:
        header = _header(gone.record_id, gone.deleted_at, shown(gone.set_list), deleted=True)
        out.append(header if prefix is None else f"<record>{header}</record>")
    return "\n".join(out)


# --------------------------------------------------------------------------- verbs


def _identify(request, args) -> str:
    earliest = [
        m
        for m in (
            Record.objects.aggregate(m=Min("updated_at"))["m"],
            DeletedRecord.objects.aggregate(m=Min("deleted_at"))["m"],
        )
        if m is not None
    ]
    email = getattr(settings, "OAI_ADMIN_EMAIL", "") or f"catalog@{repository_host()}"
    return (
        "<Identify>"
        f"<repositoryName>{esc(settings.WAGTAIL_SITE_NAME)}</repositoryName>"
        f"<baseURL>{esc(request.build_absolute_uri(reverse('libraries:oai')))}</baseURL>"
        "<protocolVersion>2.0</protocolVersion>"
        f"<adminEmail>{esc(email)}</adminEmail>"
        f"<earliestDatestamp>{stamp(min(earliest, default=timezone.now()))}</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord>"
        "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"
        "</Identify>\n"
    )


def _exists(identifier: str) -> int:
    record_id = record_id_of(identifier)
    if record_id is None or not (
        Record.objects.filter(pk=record_id).exists()
        or DeletedRecord.objects.filter(record_id=record_id).exists()
    ):
        raise OaiError("idDoesNotExist", _("No record has this identifier: %s") % identifier)
    return record_id


def _list_metadata_formats(request, args) -> str:
    if "identifier" in args:
        _exists(args["identifier"])
    formats = "".join(
        f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix><schema>{schema}</schema>"
        f"<metadataNamespace>{namespace}</metadataNamespace></metadataFormat>"
        for prefix, (schema, namespace) in FORMATS.items()
    )
    return f"<ListMetadataFormats>{formats}</ListMetadataFormats>\n"


def _list_sets(request, args) -> str:
    sets = [("library", _("Every library of the network")), ("district", _("Every district"))]
    for library in Library.objects.active().order_by("code"):
        sets.append((f"library:{library.code}", library.name))
        if library.kind == Library.Kind.DISTRICT:
            sets.append(
                (f"district:{library.code}", _("%s and its school libraries") % library.name)
            )
    body = "".join(
        f"<set><setSpec>{esc(spec)}</setSpec><setName>{esc(name)}</setName></set>"
        for spec, name in sets
    )
    return f"<ListSets>{body}</ListSets>\n"


def _get_record(request, args) -> str:
    _check_prefix(args["metadataPrefix"])
    record_id = _exists(args["identifier"])
    record = Record.objects.filter(pk=record_id).first()
    if record is not None:
        body = _records_xml([record], [], prefix=args["metadataPrefix"], request=request)
    else:
        gone = DeletedRecord.objects.get(record_id=record_id)
        body = _records_xml([], [gone], prefix=args["metadataPrefix"], request=request)
    return f"<GetRecord>{body}</GetRecord>\n"


def _query_from_args(args) -> dict:
    _check_prefix(args["metadataPrefix"])
    query = {"m": args["metadataPrefix"], "s": args.get("set", ""), "f": "", "u": ""}
    grains = set()
    if "from" in args:
        moment, grain = _parse_date(args["from"], until=False)
        query["f"], _g = moment.isoformat(), grains.add(grain)
    if "until" in args:
        moment, grain = _parse_date(args["until"], until=True)
        query["u"], _g = moment.isoformat(), grains.add(grain)
    if len(grains) > 1:
        raise OaiError("badArgument", _("from and until must have the same granularity."))
    if query["f"] and query["u"] and query["f"] >= query["u"]:
        raise OaiError("badArgument", _("from must not be later than until."))
    return query


def _after(field: str, pk_field: str, cursor) -> Q:
    if not cursor:
        return Q()
    moment = datetime.datetime.fromisoformat(cursor[0])
    return Q(**{f"{field}__gt": moment}) | Q(**{field: moment, f"{pk_field}__gt": cursor[1]})


def _list(request, args, verb: str) -> str:
    if "resumptionToken" in args:
        try:
            state = signing.loads(args["resumptionToken"], salt=TOKEN_SALT, max_age=token_max_age())
        except signing.SignatureExpired as exc:
            raise OaiError("badResumptionToken", _("This resumption token has expired.")) from exc
        except signing.BadSignature as exc:
            raise OaiError("badResumptionToken", _("This resumption token is not valid.")) from exc
        if state.get("v") != verb:
            raise OaiError("badResumptionToken", _("This resumption token is not valid."))
    else:
        state = {"v": verb, "q": _query_from_args(args), "p": "r", "k": None, "c": 0, "n": None}
    query = state["q"]
    filters = _set_filters(query["s"])
    if filters is None:
        raise OaiError("noRecordsMatch", _("No records match this request."))
    live_q, gone_q = filters
    if query["f"]:
        moment = datetime.datetime.fromisoformat(query["f"])
        live_q &= Q(updated_at__gte=moment)
        gone_q &= Q(deleted_at__gte=moment)
    if query["u"]:
        moment = datetime.datetime.fromisoformat(query["u"])
        live_q &= Q(updated_at__lt=moment)
        gone_q &= Q(deleted_at__lt=moment)
    live = Record.objects.filter(live_q).order_by("updated_at", "pk")
    gone = DeletedRecord.objects.filter(gone_q).order_by("deleted_at", "record_id")
    if state["n"] is None:
        state["n"] = live.count() + gone.count()
        if not state["n"]:
            raise OaiError("noRecordsMatch", _("No records match this request."))

    size = page_size()
    records, tombstones, next_state = [], [], None
    if state["p"] == "r":
        rows = list(live.filter(_after("updated_at", "pk", state["k"]))[: size + 1])
        if len(rows) > size:
            records = rows[:size]
            last = records[-1]
            next_state = {**state, "k": [last.updated_at.isoformat(), last.pk]}
        else:
            records = rows
            state = {**state, "p": "d", "k": None}
    if state["p"] == "d" and next_state is None:
        room = size - len(records)
        rows = list(gone.filter(_after("deleted_at", "record_id", state["k"]))[: room + 1])
        tombstones = rows[:room]
        if len(rows) > room:
            last = tombstones[-1] if room else None
            key = [last.deleted_at.isoformat(), last.record_id] if last else None
            next_state = {**state, "p": "d", "k": key}
    shown = len(records) + len(tombstones)
    if not shown and "resumptionToken" not in args:
        raise OaiError("noRecordsMatch", _("No records match this request."))
    prefix = None if verb == "ListIdentifiers" else query["m"]
    body = _records_xml(records, tombstones, prefix=prefix, request=request)
    size_attrs = f'completeListSize="{max(state["n"], 1)}" cursor="{state["c"]}"'
    if next_state is not None:
        next_state["c"] = state["c"] + shown
        token = signing.dumps(next_state, salt=TOKEN_SALT, compress=True)
        expires = stamp(timezone.now() + datetime.timedelta(seconds=token_max_age()))
        body += (
            f'\n<resumptionToken expirationDate="{expires}" {size_attrs}>{token}</resumptionToken>'
        )
    elif "resumptionToken" in args:
        body += f"\n<resumptionToken {size_attrs}/>"
    return f"<{verb}>{body}</{verb}>\n"


HANDLERS = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": lambda request, args: _list(request, args, "ListIdentifiers"),
    "ListRecords": lambda request, args: _list(request, args, "ListRecords"),
}


_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")


def _echoable(args: dict) -> dict:
    """The arguments the request element may repeat: those the schema's patterns accept."""
    keep = dict(args)
    for key in ("set", "metadataPrefix"):
        if key in keep and not _SPEC.match(keep[key]):
            del keep[key]
    return keep


def _error(request, args: dict, code: str, message: str) -> HttpResponse:
    # badVerb and badArgument echo no arguments (they may be the wrong ones).
    echoed = {} if code in ("badVerb", "badArgument") else _echoable(args)
    body = f'<error code="{code}">{esc(message)}</error>\n'
    return _envelope(request, echoed, body)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request):
    data = request.POST if request.method == "POST" else request.GET
    args = {key: data.getlist(key)[-1] for key in data}
    verbs = data.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        return _error(request, args, "badVerb", _("The verb is missing, repeated or unknown."))
    verb = verbs[0]
    required, optional = VERBS[verb]
    given = set(args) - {"verb"}
    if any(len(data.getlist(key)) > 1 for key in data):
        return _error(request, args, "badArgument", _("An argument is repeated."))
    if "resumptionToken" in given and verb in ("ListIdentifiers", "ListRecords", "ListSets"):
        if given != {"resumptionToken"}:
            return _error(
                request, args, "badArgument", _("resumptionToken must be the only argument.")
            )
        if verb == "ListSets":
            return _error(
                request, args, "badResumptionToken", _("This resumption token is not valid.")
            )
    else:
        unknown = given - required - optional
        missing = required - given
        if unknown or missing:
            return _error(
                request,
                args,
                "badArgument",
                _("Arguments not allowed: %(unknown)s; missing: %(missing)s.")
                % {
                    "unknown": ", ".join(sorted(unknown)) or "-",
                    "missing": ", ".join(sorted(missing)) or "-",
                },
            )
    try:
        body = HANDLERS[verb](request, args)
    except OaiError as error:
        return _error(request, args, error.code, error.message)
    return _envelope(request, args, body)
