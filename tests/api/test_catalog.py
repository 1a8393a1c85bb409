"""The public catalog endpoints search as the OPAC does (libraries/catalog/search.py)."""

import pytest

from libraries.catalog.views import PAGE_SIZE
from libraries.models import Item
from tests.libraries.catalog.factories import ItemFactory, RecordFactory

pytestmark = pytest.mark.usefixtures("english")


def test_search_is_accent_insensitive_with_availability_per_library(client, world):
    response = client.get("/api/v1/catalog/search", {"q": "TRUYEN kieu"})
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["page"], data["pages"]) == (1, 1, 1)
    [record] = data["results"]
    assert record["title"] == "Truyện Kiều"
    # School A's copy is on loan, school B's is on the shelf.
    assert record["holdings"] == [
        {"code": "THCSA", "name": "Thư viện THCS A", "total": 1, "available": 0},
        {"code": "THCSB", "name": "Thư viện THCS B", "total": 1, "available": 1},
    ]
    assert record["available_total"] == 1


def test_library_and_available_filters(client, world):
    at_a_now = client.get(
        "/api/v1/catalog/search", {"q": "kieu", "library": "thcsa", "available": "true"}
    ).json()
    assert at_a_now["results"] == []
    at_b_now = client.get(
        "/api/v1/catalog/search", {"q": "kieu", "library": "THCSB", "available": "true"}
    ).json()
    assert [r["id"] for r in at_b_now["results"]] == [world.record.pk]
    unknown = client.get("/api/v1/catalog/search", {"q": "kieu", "library": "NOPE"}).json()
    assert unknown["count"] == 0


def test_pages(client, world):
    for n in range(PAGE_SIZE + 3):
        ItemFactory(record=RecordFactory(title=f"Lịch sử Việt Nam tập {n}"), library=world.a)
    first = client.get("/api/v1/catalog/search", {"q": "lich su"}).json()
    second = client.get("/api/v1/catalog/search", {"q": "lich su", "page": 2}).json()
    beyond = client.get("/api/v1/catalog/search", {"q": "lich su", "page": 99}).json()
    assert (first["count"], first["pages"], len(first["results"])) == (PAGE_SIZE + 3, 2, 20)
    assert (second["page"], len(second["results"])) == (2, 3)
    assert beyond["page"] == 2
    ids = {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]}
    assert len(ids) == PAGE_SIZE + 3


def test_an_empty_query_finds_nothing(client, world):
    data = client.get("/api/v1/catalog/search").json()
    assert (data["count"], data["results"]) == (0, [])


def test_a_nul_character_is_refused(client, world):
    response = client.get("/api/v1/catalog/search", {"q": "ki\x00eu"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_record_detail_lists_copies_but_not_withdrawn_ones(client, world):
    ItemFactory(record=world.record, library=world.b, status=Item.Status.WITHDRAWN)
    data = client.get(f"/api/v1/catalog/records/{world.record.pk}").json()
    assert [(lib["code"], lib["available"], len(lib["items"])) for lib in data["libraries"]] == [
        ("THCSA", 0, 1),
        ("THCSB", 1, 1),
    ]


def test_unknown_record(client, world):
    response = client.get("/api/v1/catalog/records/999999")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_libraries_show_contact_but_not_inactive_ones(client, world):
    world.b.phone = "024 1234 5678"
    world.b.save()
    world.district.is_active = False
    world.district.save()
    data = client.get("/api/v1/libraries").json()
    assert [(lib["code"], lib["phone"]) for lib in data["results"]] == [
        ("THCSA", ""),
        ("THCSB", "024 1234 5678"),
    ]


def test_openapi_document_and_docs_page_use_no_outside_assets(client, db):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/me/loans/{loan_id}/renew" in document.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content
    assert b"cdn." not in docs.content
    assert "Content-Security-Policy" in docs
