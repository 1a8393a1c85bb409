"""Closing a stocktake that marks unseen copies missing moves their records' OAI-PMH
datestamps (libraries/stocktake/services.py calls catalog/services.py touch_records): a
harvester asking ListRecords from= the moment before the close receives those records."""

import pytest
from django.urls import reverse

from libraries.models import Item, Record, Stocktake
from libraries.stocktake import services as inventory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.catalog.oai_since import age_all, listed_since
from tests.libraries.catalog.test_oai import ident

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(network):
    return {
        name: ItemFactory(library=network.a, barcode=f"THCSA{n:05d}", call_number=f"895.9 {name}")
        for n, name in enumerate(["seen", "unseen", "also_unseen"])
    }


def test_closing_with_missing_marked_moves_their_records(client, network, shelf):
    stocktake = inventory.start_stocktake(library=network.a, by=network.librarian_a)
    inventory.record_scans(
        stocktake_id=stocktake.pk, barcodes=["THCSA00000"], by=network.librarian_a
    )
    since = age_all()
    assert listed_since(client, since) == []

    client.force_login(network.librarian_a)
    response = client.post(
        reverse("libraries:stocktake_close", args=[stocktake.pk]), {"mark_missing": "yes"}
    )

    assert response.status_code == 302
    assert Stocktake.objects.get(pk=stocktake.pk).missing_marked == 2
    assert Item.objects.get(pk=shelf["unseen"].pk).status == Item.Status.MISSING
    client.logout()  # a harvester has no account
    assert sorted(listed_since(client, since)) == sorted(
        [ident(shelf["unseen"].record_id), ident(shelf["also_unseen"].record_id)]
    )


def test_closing_without_marking_moves_nothing(client, network, shelf):
    stocktake = inventory.start_stocktake(library=network.a, by=network.librarian_a)
    since = age_all()
    before = list(Record.objects.order_by("pk").values_list("pk", "updated_at"))

    inventory.close_stocktake(stocktake_id=stocktake.pk, by=network.librarian_a, mark_missing=False)

    assert list(Record.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert listed_since(client, since) == []
