"""The load test's scenario (bench/load/): fails when the locustfile no longer matches the site.

Locust is not needed (make test does not install it): the scenario is plain data in
bench/load/scenario.py, and the locustfile is read as source (ast).
"""

import ast
import json
import random
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve

from bench.load import scenario
from courses.models import XAPIStatement
from courses.training.progress import enrol
from tests.courses.training.factories import activity_iri, h5p_block, make_course, make_lesson

LOCUSTFILE = Path(scenario.__file__).with_name("locustfile.py")
SAMPLE = {"q": "sách", "record": 7, "url": "/", "library": 3, "hold": 11, "code": "A", "klass": 5}
PASSWORD = "load-test-2026"


def locust_source() -> ast.Module:
    return ast.parse(LOCUSTFILE.read_text(encoding="utf-8"))


def test_weights_are_the_issues_shares():
    assert scenario.WEIGHTS == {
        "CatalogVisitor": 40,
        "Learner": 30,
        "DeskLibrarian": 15,
        "Reader": 10,
        "DashboardViewer": 5,
    }


def test_steps_are_bounded_at_200_users():
    assert list(scenario.STEPS) == sorted(scenario.STEPS)
    assert scenario.STEPS[-1] == scenario.MAX_USERS == 200


@pytest.mark.parametrize("name", sorted(scenario.ROUTES))
def test_each_address_reaches_its_view(name):
    template, view_name = scenario.ROUTES[name]
    address = urlsplit(template.format(**SAMPLE)).path
    match = resolve(address)
    if view_name is None:  # a Wagtail page: served by Wagtail's catch-all
        assert match.url_name == "wagtail_serve"
    else:
        assert match.view_name == view_name


def test_the_locustfile_has_the_five_users_with_their_weights():
    classes = {node.name: node for node in locust_source().body if isinstance(node, ast.ClassDef)}
    for name in scenario.WEIGHTS:
        assert name in classes, f"locustfile lost the user class {name}"
        weights = [
            statement.value
            for statement in classes[name].body
            if isinstance(statement, ast.Assign)
            and [t.id for t in statement.targets if isinstance(t, ast.Name)] == ["weight"]
        ]
        assert len(weights) == 1
        assert ast.unparse(weights[0]) == f"scenario.WEIGHTS[{name!r}]"
    assert "Steps" in classes


def test_every_request_name_of_the_locustfile_is_a_known_route():
    names = set()
    for node in ast.walk(locust_source()):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                names.add(keyword.value.value)
        function = ast.unparse(node.func)
        if function in ("scenario.path", "self.post", "self.scan") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                names.add(first.value)
    assert names, "no request names found in the locustfile"
    unknown = {n for n in names if n not in scenario.ROUTES}
    assert unknown == set()
    # Every route is asked for somewhere.
    assert set(scenario.ROUTES) - names == set()


def log_in(username: str) -> Client:
    """As the locustfile does: the login form's CSRF token, then the form posted."""
    client = Client(enforce_csrf_checks=True)
    client.get(scenario.path("login form"))
    response = client.post(
        scenario.path("login"),
        {
            "login": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_the_login_as_the_locustfile_sends_it_passes_csrf():
    user = get_user_model().objects.create_user("br17", email="", password=PASSWORD)
    client = log_in("br17")
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_the_xapi_lists_the_locustfile_posts_are_stored():
    """The same statements, the same headers (X-CSRFToken from the cookie), over HTTP."""
    course = make_course()
    blocks = [h5p_block(), h5p_block(), h5p_block()]
    lesson = make_lesson(course, blocks=blocks)
    user = get_user_model().objects.create_user("bd900", email="", password=PASSWORD)
    enrol(user=user, course=course)
    client = log_in("bd900")
    rng = random.Random(3)
    statements = [scenario.xapi_statement(activity_iri(lesson, b["id"]), rng) for b in blocks]
    before = XAPIStatement.objects.count()
    response = client.post(
        scenario.path("xAPI statements"),
        json.dumps(statements),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 200
    assert response.json() == [s["id"] for s in statements]
    assert XAPIStatement.objects.count() == before + 3
    assert set(XAPIStatement.objects.filter(user=user).values_list("block_id", flat=True)) == {
        b["id"] for b in blocks
    }


@pytest.mark.django_db
def test_an_xapi_list_without_the_csrf_header_is_refused_and_stores_nothing():
    course = make_course()
    block = h5p_block()
    lesson = make_lesson(course, blocks=[block])
    user = get_user_model().objects.create_user("bd901", email="", password=PASSWORD)
    enrol(user=user, course=course)
    client = log_in("bd901")
    before = XAPIStatement.objects.count()
    response = client.post(
        scenario.path("xAPI statements"),
        json.dumps([scenario.xapi_statement(activity_iri(lesson, block["id"]))]),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert XAPIStatement.objects.count() == before
