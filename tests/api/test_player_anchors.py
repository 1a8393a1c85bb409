"""The API's `player_url` of each activity opens the lesson page at an element that exists:
the anchor the redirect names is an id the page renders (courses/training/activities.py,
`activity_page_url`, the one producer of these addresses)."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.usefixtures("english")


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


def page_ids(html: str) -> list[str]:
    parser = Ids()
    parser.feed(html)
    return parser.ids


def test_each_player_url_lands_on_its_activity(client, world, lessons, token_client):
    data = client.get(lessons.url(), **token_client(world.reader)).json()
    activities = [block for block in data["blocks"] if block["type"] in ("h5p", "quiz")]
    assert [(a["type"], a["id"]) for a in activities] == [
        ("h5p", lessons.h5p["id"]),
        ("quiz", lessons.quiz["id"]),
    ]
    client.force_login(world.reader)
    landed = {}
    for activity in activities:
        response = client.get(activity["player_url"])
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.path == lessons.lesson.url
        page = client.get(target.path)
        assert page.status_code == 200
        assert page_ids(page.content.decode()).count(target.fragment) == 1
        landed[activity["type"]] = target.fragment
    assert landed == {
        "h5p": f"activity-{lessons.h5p['id']}",
        "quiz": f"quiz-{lessons.quiz['id']}",
    }
