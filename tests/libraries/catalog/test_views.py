import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from libraries.catalog.search import Query, search_records
from libraries.models import Item
from tests.factories import LibraryFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory

pytestmark = pytest.mark.django_db


def test_search_page_lists_results_with_availability_per_library(client):
    the, thf = LibraryFactory(code="THE", name="Trường E"), LibraryFactory(code="THF")
    record = RecordFactory(title="Đường về quê hương", authors="Nguyễn Nhật Ánh")
    ItemFactory(record=record, library=the)
    ItemFactory(record=record, library=the, status=Item.Status.ON_LOAN)
    ItemFactory(record=record, library=thf, status=Item.Status.ON_LOAN)
    ItemFactory(record=record, library=thf, status=Item.Status.WITHDRAWN)
    RecordFactory(title="Không liên quan")
    response = client.get(reverse("libraries:catalog_search"), {"q": "duong ve que huong"})
    assert response.status_code == 200
    page = response.context["page"]
    assert [r.title for r in page.object_list] == ["Đường về quê hương"]
    assert page.object_list[0].holdings == [
        {"code": "THE", "name": "Trường E", "total": 2, "available": 1},
        {"code": "THF", "name": thf.name, "total": 1, "available": 0},
    ]
    html = response.content.decode()
    assert html.count('class="is-available"') == 1 and html.count('class="is-out"') == 1
    assert reverse("libraries:record_detail", args=[record.pk]) in html


def test_search_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    library = LibraryFactory()
    for n in range(3):
        ItemFactory(record=RecordFactory(title=f"Tiếng Việt {n}"), library=library)
    url = reverse("libraries:catalog_search")
    # libraries, candidates, words inside digital files, page, holdings, digital copies (the
    # count comes from the candidates); PostgreSQL first finds where the window of newest
    # records starts (one more query, then cached).
    cache.clear()
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 6):
        client.get(url, {"q": "tieng viet"})
    for n in range(3, 30):
        ItemFactory(record=RecordFactory(title=f"Tiếng Việt {n}"), library=library)
    with django_assert_num_queries(6):
        response = client.get(url, {"q": "tieng viet"})
    assert len(response.context["page"].object_list) == 20


def test_pagination_keeps_the_query(client):
    for n in range(25):
        RecordFactory(title=f"Toán lớp {n}")
    url = reverse("libraries:catalog_search")
    first = client.get(url, {"q": "toan"})
    assert first.context["page"].paginator.count == 25
    assert "q=toan&amp;page=2" in first.content.decode()
    second = client.get(url, {"q": "toan", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_empty_search_shows_the_form_only(client):
    RecordFactory(title="Sách")
    response = client.get(reverse("libraries:catalog_search"))
    assert response.status_code == 200 and response.context["page"] is None
    assert 'role="search"' in response.content.decode()


def test_record_page_lists_holdings_per_library_with_status_and_call_number(client):
    the = LibraryFactory(code="THE", name="Thư viện Trường E")
    hbt = LibraryFactory(code="HBT", name="Thư viện huyện")
    record = RecordFactory(title="Lịch sử Việt Nam", subjects="Lịch sử\nViệt Nam")
    ItemFactory(record=record, library=the, barcode="THE0000001", call_number="959.7 L")
    ItemFactory(record=record, library=hbt, barcode="HBT0000001", status=Item.Status.ON_LOAN)
    ItemFactory(record=record, library=hbt, barcode="HBT0000002", status=Item.Status.WITHDRAWN)
    response = client.get(reverse("libraries:record_detail", args=[record.pk]))
    assert response.status_code == 200
    entries = {e["library"].code: e for e in response.context["libraries"]}
    assert set(entries) == {"THE", "HBT"}
    assert [(i.barcode, i.status) for i in entries["HBT"]["items"]] == [("HBT0000001", "on_loan")]
    assert entries["THE"]["available"] == 1
    html = response.content.decode()
    assert "959.7 L" in html and "THE0000001" in html and "HBT0000002" not in html


def test_record_page_404_for_unknown_record(client):
    assert client.get(reverse("libraries:record_detail", args=[999999])).status_code == 404


def test_selects_written_from_the_choices_match_the_generic_rendering():
    from libraries.catalog.views import PlainSelect

    choices = [("", "Tất cả"), ("A&B", 'Thư viện "A" & <B>'), ("THE", "Trường E"), ("THE", "x")]
    widget = PlainSelect(choices=choices)
    for value in (None, "", "THE", "A&B", "NOPE", ["THE"]):
        fast = widget.render("library", value, {"id": "id_library"})
        assert fast == widget._render_groups("library", value, {"id": "id_library"})
    # One option selected (the first of equal values), names escaped.
    html = widget.render("library", "THE", {"id": "id_library"})
    assert html.count(" selected") == 1 and '<option value="THE" selected>Trường E' in html
    assert 'value="A&amp;B">Thư viện &quot;A&quot; &amp; &lt;B&gt;</option>' in html


def test_library_names_are_escaped_and_the_chosen_library_selected(client):
    LibraryFactory(code="HACK", name='<script>alert("x")</script>')
    LibraryFactory(code="THE", name="Trường E")
    response = client.get(reverse("libraries:catalog_search"), {"q": "toan", "library": "THE"})
    html = response.content.decode()
    assert "<script>alert" not in html
    assert '<option value="HACK">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</option>' in html
    assert '<option value="THE" selected>Trường E</option>' in html
    assert html.count(" selected>") == 3  # library, "all fields", "any language"


def test_copies_per_library_read_in_the_visitor_language(client, vietnamese):
    the = LibraryFactory(code="THE", name="Trường E")
    record = RecordFactory(title="Đất rừng phương Nam")
    ItemFactory(record=record, library=the)
    ItemFactory(record=record, library=the, status=Item.Status.ON_LOAN)
    html = client.get(reverse("libraries:catalog_search"), {"q": "dat rung"}).content.decode()
    assert '<abbr title="Trường E">THE</abbr>: 1/2 bản sẵn sàng</li>' in html
    client.cookies["django_language"] = "en"
    html = client.get(reverse("libraries:catalog_search"), {"q": "dat rung"}).content.decode()
    assert '<abbr title="Trường E">THE</abbr>: 1 of 2 available</li>' in html


def test_result_pages_follow_the_ranking_and_end_where_the_results_end(client):
    for n in range(23):
        RecordFactory(title=f"Toán lớp {n}" if n % 3 else f"Toan nang cao {n}")
    url = reverse("libraries:catalog_search")
    expected = [r.title for r in search_records(Query(text="Toán"))]
    first = client.get(url, {"q": "Toán"}).context["page"]
    second = client.get(url, {"q": "Toán", "page": 2}).context["page"]
    beyond = client.get(url, {"q": "Toán", "page": 9}).context["page"]
    assert [r.title for r in first.object_list] + [r.title for r in second.object_list] == expected
    assert expected[0].startswith("Toán lớp") and expected[-1].startswith("Toan nang cao")
    assert beyond.number == 2 and [r.title for r in beyond.object_list] == expected[20:]
    assert first.paginator.count == 23
