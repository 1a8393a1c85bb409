"""Public endpoints: the union catalog (as the OPAC searches it) and the library network."""

import math

from django.core.paginator import Paginator
from ninja import Query as QueryParams
from ninja import Router, Schema
from pydantic import field_validator

from api.v1.errors import PUBLIC_ERRORS, Error, PathId, no_nul, not_found
from libraries.catalog.search import FIELDS, Query, ranked_ids, records_by_id
from libraries.catalog.views import PAGE_SIZE, holdings_summary
from libraries.models import Item, Library, Record

router = Router(tags=["catalog"])


class Holding(Schema):
    code: str
    name: str
    total: int
    available: int


class RecordSummary(Schema):
    id: int
    title: str
    subtitle: str
    authors: str
    publisher: str
    year: int | None
    isbn: str
    language: str
    available_total: int
    holdings: list[Holding]


class RecordPage(Schema):
    count: int
    page: int
    pages: int
    page_size: int
    results: list[RecordSummary]


class SearchParams(Schema):
    q: str = ""
    field: str = "all"
    library: str = ""
    available: bool = False
    page: int = 1

    _text = field_validator("q", "field", "library")(no_nul)


class Copy(Schema):
    barcode: str
    call_number: str
    status: str
    status_label: str


class LibraryHoldings(Schema):
    code: str
    name: str
    available: int
    items: list[Copy]


class RecordDetail(Schema):
    id: int
    title: str
    subtitle: str
    authors: str
    publisher: str
    place: str
    year: int | None
    isbn: str
    language: str
    subjects: list[str]
    call_number: str
    summary: str
    libraries: list[LibraryHoldings]


class LibraryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    address: str
    contact_name: str
    email: str
    phone: str


class LibraryPage(Schema):
    count: int
    page: int
    pages: int
    page_size: int
    results: list[LibraryOut]


def _page_number(value: int, pages: int) -> int:
    return min(max(value, 1), max(pages, 1))


def _summary(record, holdings) -> dict:
    return {
        "id": record.pk,
        "title": record.title,
        "subtitle": record.subtitle,
        "authors": record.authors,
        "publisher": record.publisher,
        "year": record.year,
        "isbn": record.isbn,
        "language": record.language,
        "available_total": sum(h["available"] for h in holdings),
        "holdings": holdings,
    }


@router.get(
    "/catalog/search",
    response={200: RecordPage, **PUBLIC_ERRORS},
    auth=None,
    summary="Search the union catalog",
)
def catalog_search(request, params: QueryParams[SearchParams]):
    """Accent-insensitive search of every library's records, as the OPAC searches them;
    `library` is a library code, `available` keeps titles with a copy on the shelf now."""
    field = params.field if params.field in FIELDS else "all"
    query = Query(
        text=params.q[:200], field=field, library=params.library[:20], available=params.available
    )
    if query.is_empty():
        return {"count": 0, "page": 1, "pages": 0, "page_size": PAGE_SIZE, "results": []}
    ids = ranked_ids(query)  # as the OPAC ranks them; only the page's records are read
    count = len(ids)
    pages = math.ceil(count / PAGE_SIZE) if count else 0
    page = Paginator(ids, PAGE_SIZE).get_page(_page_number(params.page, pages))
    records = records_by_id(page.object_list)
    holdings = holdings_summary(r.pk for r in records)
    return {
        "count": count,
        "page": page.number,
        "pages": pages,
        "page_size": PAGE_SIZE,
        "results": [_summary(r, holdings.get(r.pk, [])) for r in records],
    }


@router.get(
    "/catalog/records/{record_id}",
    response={200: RecordDetail, 404: Error, **PUBLIC_ERRORS},
    auth=None,
    summary="One catalog record and its copies",
)
def record_detail(request, record_id: PathId):
    record = Record.objects.defer("marc").filter(pk=record_id).first()
    if record is None:
        raise not_found()
    by_library: dict[int, dict] = {}
    items = (
        record.items.exclude(status=Item.Status.WITHDRAWN)
        .select_related("library")
        .order_by("library__name", "barcode")
    )
    for item in items:
        entry = by_library.setdefault(
            item.library_id,
            {"code": item.library.code, "name": item.library.name, "available": 0, "items": []},
        )
        entry["items"].append(
            {
                "barcode": item.barcode,
                "call_number": item.call_number or record.call_number,
                "status": item.status,
                "status_label": str(item.get_status_display()),
            }
        )
        entry["available"] += item.status == Item.Status.AVAILABLE
    return {
        "id": record.pk,
        "title": record.title,
        "subtitle": record.subtitle,
        "authors": record.authors,
        "publisher": record.publisher,
        "place": record.place,
        "year": record.year,
        "isbn": record.isbn,
        "language": record.language,
        "subjects": [s.strip() for s in record.subjects.splitlines() if s.strip()],
        "call_number": record.call_number,
        "summary": record.summary,
        "libraries": list(by_library.values()),
    }


@router.get(
    "/libraries",
    response={200: LibraryPage, **PUBLIC_ERRORS},
    auth=None,
    summary="The library network and how to reach each library",
)
def libraries(request, page: int = 1):
    """Active libraries, by name, with their public contact details."""
    qs = Library.objects.active().select_related("parent").order_by("name", "pk")
    paginator = Paginator(qs, 50)
    number = _page_number(page, paginator.num_pages)
    current = paginator.get_page(number)
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages if paginator.count else 0,
        "page_size": 50,
        "results": [
            {
                "id": lib.pk,
                "code": lib.code,
                "name": lib.name,
                "kind": lib.kind,
                "parent_code": lib.parent.code if lib.parent_id else None,
                "address": lib.address,
                "contact_name": lib.contact_name,
                "email": lib.email,
                "phone": lib.phone,
            }
            for lib in current.object_list
        ],
    }
