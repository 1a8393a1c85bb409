"""The public union catalog (OPAC): search every library's records, see who holds a copy.

Availability comes from the database at request time; each page runs a fixed number of
queries whatever the number of results (one aggregate for the holdings of the page).
"""

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from libraries.catalog.search import (
    CANDIDATE_LIMIT,
    FIELDS,
    Query,
    body_snippets,
    ranked_ids,
    records_by_id,
)
from libraries.models import DigitalFile, Item, Library, Record

PAGE_SIZE = 20
LANGUAGES = [
    ("", _("Any language")),
    ("vie", _("Vietnamese")),
    ("eng", _("English")),
    ("fre", _("French")),
    ("rus", _("Russian")),
    ("chi", _("Chinese")),
    ("jpn", _("Japanese")),
    ("kor", _("Korean")),
    ("ger", _("German")),
    ("spa", _("Spanish")),
]
FIELD_LABELS = {
    "all": _("All fields"),
    "title": _("Title"),
    "author": _("Author"),
    "subject": _("Subject"),
    "isbn": _("ISBN"),
}


def _attrs_html(attrs) -> str:
    """Attributes as Django's widgets/attrs.html writes them (True: bare name, False: none)."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class PlainSelect(forms.Select):
    """A <select> written in Python: the same markup as Django's template, without rendering
    one template per option (the library list has one option per library: about 200, which
    cost some 30 ms a page through the template engine). Flat choices are written straight
    from the choices (Django's option dictionaries cost another 5 to 10 ms a page)."""

    def render(self, name, value, attrs=None, renderer=None):
        if self.allow_multiple_selected or any(
            isinstance(label, (list, tuple)) for _value, label in self.choices
        ):
            return self._render_groups(name, value, attrs)
        chosen = self.format_value(value)
        rows, selected = [], False
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            mark = ""
            if not selected and option_value in chosen:
                mark, selected = " selected", True
            rows.append(
                f'\n  <option value="{conditional_escape(option_value)}"{mark}>'
                f"{conditional_escape(label)}</option>"
            )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            name,
            _attrs_html(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(rows)),  # noqa: S308 - every part escaped above
        )

    def _render_groups(self, name, value, attrs=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = []
        for group_name, group_choices, _index in widget["optgroups"]:
            rows = format_html_join(
                "",
                '\n  <option value="{}"{}>{}</option>',
                ((str(o["value"]), _attrs_html(o["attrs"]), o["label"]) for o in group_choices),
            )
            if group_name:
                rows = format_html('\n  <optgroup label="{}">{}\n  </optgroup>', group_name, rows)
            options.append(rows)
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attrs_html(widget["attrs"]),
            mark_safe("".join(options)),  # noqa: S308 - built with format_html above
        )


class CatalogSearchForm(forms.Form):
    q = forms.CharField(label=_("Search the catalog"), required=False, max_length=200)
    field = forms.ChoiceField(
        label=_("Search in"),
        choices=[(f, FIELD_LABELS[f]) for f in FIELDS],
        required=False,
        widget=PlainSelect,
    )
    library = forms.ChoiceField(label=_("Library"), required=False, widget=PlainSelect)
    language = forms.ChoiceField(
        label=_("Language"), choices=LANGUAGES, required=False, widget=PlainSelect
    )
    year_from = forms.IntegerField(
        label=_("Year from"), required=False, min_value=0, max_value=9999
    )
    year_to = forms.IntegerField(label=_("Year to"), required=False, min_value=0, max_value=9999)
    available = forms.BooleanField(label=_("Available now"), required=False)

    def __init__(self, *args, libraries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].choices = [("", _("All libraries")), *libraries]

    def to_query(self) -> Query:
        data = self.cleaned_data
        return Query(
            text=data.get("q") or "",
            field=data.get("field") or "all",
            library=data.get("library") or "",
            language=data.get("language") or "",
            year_from=data.get("year_from"),
            year_to=data.get("year_to"),
            available=bool(data.get("available")),
        )


def holdings_summary(record_ids) -> dict[int, list[dict]]:
    """Per record: [{code, name, total, available}] per library, from one aggregate query."""
    rows = (
        Item.objects.filter(record_id__in=list(record_ids))
        .exclude(status=Item.Status.WITHDRAWN)
        .values("record_id", "library__code", "library__name")
        .annotate(
            total=Count("id"),
            available=Count("id", filter=Q(status=Item.Status.AVAILABLE)),
        )
        .order_by("record_id", "library__code")
    )
    summary: dict[int, list[dict]] = {}
    for row in rows:
        summary.setdefault(row["record_id"], []).append(
            {
                "code": row["library__code"],
                "name": row["library__name"],
                "total": row["total"],
                "available": row["available"],
            }
        )
    return summary


def digital_summary(record_ids) -> dict[int, list[dict]]:
    """Per record: its digital files' format and access, from one query."""
    rows = (
        DigitalFile.objects.filter(record_id__in=list(record_ids))
        .order_by("record_id", "pk")
        .values_list("record_id", "kind", "access")
    )
    summary: dict[int, list[dict]] = {}
    for record_id, kind, access_level in rows:
        summary.setdefault(record_id, []).append(
            {
                "kind": DigitalFile.Kind(kind).label,
                "access": DigitalFile.Access(access_level).label,
            }
        )
    return summary


def catalog_search(request):
    libraries = Library.objects.active().order_by("name").values_list("code", "name")
    form = CatalogSearchForm(request.GET or None, libraries=libraries)
    page = None
    query = None
    if form.is_bound and form.is_valid():
        query = form.to_query()
        if not query.is_empty():
            # The ordered ids of every candidate (scored by the query that finds them), then
            # only the page's records: no query ranks the candidates again.
            paginator = Paginator(ranked_ids(query), PAGE_SIZE)
            page = paginator.get_page(request.GET.get("page"))
            page.object_list = records_by_id(page.object_list)
            holdings = holdings_summary(r.pk for r in page.object_list)
            digital = digital_summary(r.pk for r in page.object_list)
            snippets = {}
            if query.field == "all" and digital:
                snippets = body_snippets(digital, query.text)
            # "2 of 3 available", translated once per page (the template's blocktranslate
            # per library cost a few ms a page).
            available_of = gettext("%(a)s of %(t)s available")
            for record in page.object_list:
                record.holdings = holdings.get(record.pk, [])
                record.holding_rows = [
                    (h, available_of % {"a": h["available"], "t": h["total"]})
                    for h in record.holdings
                ]
                record.available_total = sum(h["available"] for h in record.holdings)
                record.digital = digital.get(record.pk, [])
                record.snippet = snippets.get(record.pk)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "libraries/catalog/search.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "params": params.urlencode(),
            "capped": bool(page and page.paginator.count >= CANDIDATE_LIMIT),
        },
    )


def record_detail(request, pk: int):
    record = get_object_or_404(Record.objects.defer("marc").select_related("cover"), pk=pk)
    items = list(
        record.items.exclude(status=Item.Status.WITHDRAWN)
        .select_related("library", "location")
        .order_by("library__name", "barcode")
    )
    by_library: dict[int, dict] = {}
    for item in items:
        entry = by_library.setdefault(
            item.library_id, {"library": item.library, "items": [], "available": 0}
        )
        entry["items"].append(item)
        entry["available"] += item.status == Item.Status.AVAILABLE
    return render(
        request,
        "libraries/catalog/record_detail.html",
        {"record": record, "libraries": list(by_library.values()), "Status": Item.Status},
    )
