"""Staff screens of harvesting (libraries/harvest/admin.py) over HTTP: who registers and
harvests which sources (libraries/access.py), addresses the form refuses, "harvest now"
through the task worker, and the runs with their counts and problems."""

import pytest
from django.urls import reverse

from libraries.models import HarvestedRecord, HarvestRun, HarvestSource, Item, Role
from tests.factories import member
from tests.libraries.catalog.factories import RecordFactory
from tests.libraries.harvest.conftest import koha

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def people(tree):
    return {
        "network": member(tree.province, Role.NETWORK_ADMIN),
        "district": member(tree.own, Role.LIBRARY_ADMIN),
        "school": member(tree.child, Role.LIBRARY_ADMIN),
        "sibling": member(tree.sibling, Role.LIBRARY_ADMIN),
        "librarian": member(tree.own, Role.LIBRARIAN),
    }


@pytest.fixture
def source(tree, repository):
    return HarvestSource.objects.create(
        name="Koha An Bình", base_url=repository.url, library=tree.child
    )


def rows() -> list[tuple]:
    return list(
        HarvestSource.objects.order_by("pk").values_list(
            "name", "base_url", "set_spec", "metadata_prefix", "library__code", "daily"
        )
    )


@pytest.mark.parametrize(
    "who, status, listed",
    [
        ("network", 200, ["Koha An Bình"]),
        ("district", 200, ["Koha An Bình"]),
        ("school", 200, ["Koha An Bình"]),
        ("sibling", 200, []),
        ("librarian", 403, None),
    ],
)
def test_who_sees_the_sources(client, people, source, who, status, listed):
    client.force_login(people[who])
    response = client.get(reverse("harvest_sources:index"))
    assert response.status_code == status
    if listed is not None:
        assert [s.name for s in response.context["object_list"]] == listed


def test_anonymous_visitors_are_sent_to_log_in(client, source):
    response = client.get(reverse("harvest_sources:runs", args=[source.pk]))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_admins_out_of_reach_cannot_open_change_or_harvest(client, people, source):
    before = rows()
    client.force_login(people["sibling"])
    assert client.get(reverse("harvest_sources:edit", args=[source.pk])).status_code == 404
    response = client.post(
        reverse("harvest_sources:edit", args=[source.pk]),
        {"name": "Đổi tên", "base_url": source.base_url, "metadata_prefix": "marc21",
         "library": source.library_id},
    )  # fmt: skip
    assert response.status_code == 404
    assert client.get(reverse("harvest_sources:runs", args=[source.pk])).status_code == 404
    assert client.post(reverse("harvest_sources:harvest", args=[source.pk])).status_code == 404
    assert client.post(reverse("harvest_sources:delete", args=[source.pk])).status_code == 404
    assert rows() == before
    assert HarvestRun.objects.count() == 0


def test_a_librarian_cannot_harvest(client, people, source):
    client.force_login(people["librarian"])
    assert client.post(reverse("harvest_sources:harvest", args=[source.pk])).status_code == 403
    assert HarvestRun.objects.count() == 0


def test_registering_a_source(client, people, tree, repository):
    client.force_login(people["district"])
    add = reverse("harvest_sources:add")
    form = client.get(add).context["form"]
    assert sorted(form.fields["library"].queryset.values_list("code", flat=True)) == [
        "HBT",
        "THCSA",
    ]
    data = {"name": "Koha An Bình", "base_url": repository.url, "set_spec": " ",
            "metadata_prefix": "marc21", "library": tree.child.pk, "daily": "on"}  # fmt: skip
    response = client.post(add, data)
    assert response.status_code == 302
    assert rows() == [("Koha An Bình", repository.url, "", "marc21", "THCSA", True)]
    assert HarvestSource.objects.get().created_by == people["district"]
    # The same address, set, format and library twice is one source.
    again = client.post(add, data)
    assert again.status_code == 200 and again.context["form"].errors
    assert len(rows()) == 1


@pytest.mark.parametrize(
    "url, error",
    [
        ("http://10.0.0.5/cgi-bin/koha/oai.pl", "The host 10.0.0.5 is an internal address"),
        ("http://169.254.169.254/latest/", "The host 169.254.169.254 is an internal address"),
        ("ftp://example.org/oai", "Only http:// and https:// addresses can be harvested."),
    ],
)
def test_internal_addresses_are_refused(client, people, tree, settings, url, error):
    settings.HARVEST_ALLOWED_NETWORKS = []
    client.force_login(people["network"])
    data = {"name": "Nội bộ", "base_url": url, "metadata_prefix": "marc21",
            "library": tree.child.pk}  # fmt: skip
    response = client.post(reverse("harvest_sources:add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["base_url"][0].startswith(error)
    assert rows() == []


def test_a_library_out_of_reach_cannot_be_chosen(client, people, tree, repository):
    client.force_login(people["district"])
    data = {"name": "Sai thư viện", "base_url": repository.url, "metadata_prefix": "marc21",
            "library": tree.cousin.pk}  # fmt: skip
    response = client.post(reverse("harvest_sources:add"), data)
    assert response.status_code == 200 and "library" in response.context["form"].errors
    assert rows() == []


def test_harvest_now_runs_through_the_task_worker(
    client, people, source, repository, django_capture_on_commit_callbacks
):
    token = "marc21/3/1970-01-01T00:00:00Z/2026-11-30T23:59:59Z//0/4"
    repository.answer(koha("identify.xml"), verb="Identify")
    repository.answer(koha("listrecords-1.xml"), verb="ListRecords", metadataPrefix="marc21")
    repository.answer(koha("listrecords-2.xml"), verb="ListRecords", resumptionToken=token)
    client.force_login(people["school"])
    assert client.get(reverse("harvest_sources:harvest", args=[source.pk])).status_code == 405

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("harvest_sources:harvest", args=[source.pk]))

    assert len(callbacks) == 1  # the task is enqueued once the run row is committed
    assert response.status_code == 302
    assert response.url == reverse("harvest_sources:runs", args=[source.pk])
    run = HarvestRun.objects.get()
    assert (run.trigger, run.requested_by, run.status) == ("manual", people["school"], "done")
    assert (run.added, run.items_added) == (5, 9)
    assert Item.objects.filter(library=source.library).count() == 9
    page = client.get(response.url)
    assert page.status_code == 200
    assert list(page.context["runs"]) == [run]
    assert page.context["record_count"] == 5
    assert "Harvest now (staff)" in page.content.decode()
    detail = client.get(reverse("harvest_sources:run", args=[run.pk]))
    assert detail.status_code == 200 and detail.context["run"] == run


def test_harvest_now_is_refused_while_a_run_waits(client, people, source):
    waiting = HarvestRun.objects.create(source=source, trigger="schedule")
    client.force_login(people["network"])
    response = client.post(reverse("harvest_sources:harvest", args=[source.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "A harvest of Koha An Bình is already waiting or running."
    ]
    assert list(HarvestRun.objects.all()) == [waiting]


def test_a_run_page_lists_its_problems(client, people, source):
    run = HarvestRun.objects.create(
        source=source,
        status=HarvestRun.Status.PARTIAL,
        failed=1,
        errors=[{"identifier": "KOHA-OAI-TEST:12", "reason": "barcode X <b>is</b> used"}],
        errors_not_kept=3,
    )
    client.force_login(people["district"])
    html = client.get(reverse("harvest_sources:run", args=[run.pk])).content.decode()
    assert "KOHA-OAI-TEST:12" in html
    assert "barcode X &lt;b&gt;is&lt;/b&gt; used" in html
    assert "And 3 more problems, not kept." in html
    client.force_login(people["sibling"])
    assert client.get(reverse("harvest_sources:run", args=[run.pk])).status_code == 404


def test_a_source_with_records_in_the_catalog_cannot_be_deleted(client, people, source):
    HarvestedRecord.objects.create(source=source, identifier="x:1", record=RecordFactory())
    client.force_login(people["school"])
    response = client.post(reverse("harvest_sources:delete", args=[source.pk]))
    assert response.status_code == 403
    assert HarvestSource.objects.filter(pk=source.pk).exists()
    HarvestedRecord.objects.all().delete()
    response = client.post(reverse("harvest_sources:delete", args=[source.pk]))
    assert response.status_code == 302
    assert not HarvestSource.objects.filter(pk=source.pk).exists()
