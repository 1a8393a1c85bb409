"""What a harvester asking for changes receives: the steps of the datestamp tests (MARC import,
stocktake, item deletion)."""

import datetime

from django.utils import timezone

from libraries.models import Record
from tests.libraries.catalog.test_oai import NS, error_of, ids_of, oai


def age_all() -> str:
    """Every record's datestamp goes back ten days; returns `from` = now, to the second."""
    Record.objects.update(updated_at=timezone.now() - datetime.timedelta(days=10))
    return timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def listed_since(client, since: str) -> list[str]:
    root = oai(client, verb="ListRecords", metadataPrefix="marc21", **{"from": since})
    if root.find("o:error", NS) is not None:
        assert error_of(root)[0] == "noRecordsMatch"
        return []
    return ids_of(root)
