"""training_site/db_router.py: with a `replica` alias (here on the test database itself,
TEST MIRROR, as Django tests replicas) the dashboards' and reports' reads go to the replica,
while access checks, writes, other pages, reads inside a transaction and reads after a write
stay on `default`; the production settings add the alias and the router only when
DATABASE_REPLICA_URL is set."""

import csv
import io
import json
import sys

import pytest
from django.db import connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Enrollment
from libraries.models import Library, Role
from tests.courses.classes.factories import network, staff_at
from tests.courses.dashboards.test_views import build
from tests.factories import LibraryFactory
from tests.training_site.test_production_settings import with_example_environment
from training_site.db_router import use_replica

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("english"),
]

ROUTER = ["training_site.db_router.ReplicaRouter"]
# Tables only the reports read on these pages.
REPORT_TABLES = (
    '"courses_enrollment"',
    '"courses_certificate"',
    '"courses_librarytrainingfigures"',
)
READ_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "aliases": sorted(s.DATABASES),
    "replica": {k: s.DATABASES.get("replica", {}).get(k) for k in ("NAME", "HOST")},
    "mirror": s.DATABASES.get("replica", {}).get("TEST", {}).get("MIRROR"),
    "routers": s.DATABASE_ROUTERS,
}))
"""


@pytest.fixture
def routed():
    with override_settings(DATABASE_ROUTERS=ROUTER):
        yield


class Queries:
    """The SQL each alias ran inside the block."""

    def __enter__(self):
        self.captures = {
            alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "replica")
        }
        for capture in self.captures.values():
            capture.__enter__()
        return self

    def __exit__(self, *exc):
        for capture in self.captures.values():
            capture.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        return [query["sql"] for query in self.captures[alias].captured_queries]

    def reading(self, alias: str, tables=REPORT_TABLES) -> list[str]:
        return [sql for sql in self.sql(alias) if any(table in sql for table in tables)]


def test_dashboards_read_their_figures_from_the_replica(client, routed):
    net = network()
    build(net)
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    pages = [
        reverse("courses:network_dashboard"),
        reverse("courses:network_export", args=["csv"]),
        reverse("courses:library_dashboard", args=["THCSA"]),
    ]
    for url in pages:
        with Queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert queries.reading("replica") != [], url
        # The figures come from the replica only; the session, the user and the access check
        # (memberships) from default.
        assert queries.reading("default") == [], url
        assert any('"libraries_membership"' in sql for sql in queries.sql("default")), url
    rows = list(csv.reader(io.StringIO(client.get(pages[1]).content.decode("utf-8-sig"))))
    by_code = {row[0]: row[3:5] for row in rows[1:]}  # staff trained, learners enrolled
    assert (by_code["THCSA"], by_code["THCSB"]) == (["1", "5"], ["1", "2"])


def test_a_class_report_reads_from_the_replica_after_its_access_check(client, routed):
    from courses.models import ClassGroup

    net = network()
    build(net)
    class_group = ClassGroup.objects.get(library=net.school)
    client.force_login(class_group.teachers.get())
    with Queries() as queries:
        response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "csv"]))
    assert response.status_code == 200
    assert "Nguyễn Văn An" in response.content.decode("utf-8-sig")
    assert any('"courses_classgroup"' in sql for sql in queries.sql("default"))  # class_or_404
    assert queries.reading("replica", ('"courses_lessonprogress"',)) != []
    assert queries.reading("default", ('"courses_lessonprogress"',)) == []


def test_other_pages_and_every_write_stay_on_default(client, routed):
    net = network()
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    with Queries() as queries:
        assert client.get(reverse("libraries:catalog_search"), {"q": "a"}).status_code == 200
        assert client.get("/accounts/profile/").status_code == 200
    assert queries.sql("replica") == []

    with Queries() as queries, use_replica():
        assert Library.objects.filter(code="THCSA").exists()  # read: replica
        LibraryFactory(code="MOI", parent=net.district)  # write: default
        assert Library.objects.filter(code="MOI").exists()  # after a write: default
    replica, default = queries.sql("replica"), queries.sql("default")
    assert len(replica) == 1 and "'THCSA'" in replica[0] and "MOI" not in " ".join(replica)
    assert any(sql.startswith('INSERT INTO "libraries_library"') for sql in default)
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in replica)


def test_reads_inside_a_transaction_stay_on_default(routed):
    net = network()
    with Queries() as queries, transaction.atomic(), use_replica():
        Enrollment.objects.count()
        assert Library.objects.get(code="THCSA") == net.school
    assert queries.sql("replica") == []


def test_without_the_router_nothing_reads_the_replica(client):
    net = network()
    build(net)
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    with Queries() as queries:
        assert client.get(reverse("courses:network_dashboard")).status_code == 200
    assert queries.sql("replica") == []
    assert queries.reading("default") != []


@pytest.mark.postgres
def test_a_replica_behind_the_primary_would_miss_a_write_in_progress(routed):
    """Why reads inside a transaction stay on default: the replica's connection does not see
    rows the transaction wrote (on PostgreSQL; SQLite's shared memory locks instead)."""
    with transaction.atomic():
        LibraryFactory(code="MOI")
        assert not Library.objects.using("replica").filter(code="MOI").exists()
        with use_replica():
            assert Library.objects.filter(code="MOI").exists()


def test_production_adds_the_replica_only_when_its_address_is_set():
    read = with_example_environment([sys.executable, "-c", READ_SETTINGS])
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {
        "aliases": ["default"],
        "replica": {"NAME": None, "HOST": None},
        "mirror": None,
        "routers": [],
    }
    read = with_example_environment(
        [sys.executable, "-c", READ_SETTINGS],
        DATABASE_REPLICA_URL="postgres://kb:secret@replica.example.vn:5432/knowledge_bridge",
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {
        "aliases": ["default", "replica"],
        "replica": {"NAME": "knowledge_bridge", "HOST": "replica.example.vn"},
        "mirror": "default",  # tests of it run against the test database itself
        "routers": ROUTER,
    }
