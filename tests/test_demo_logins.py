"""README.md's "Demo logins" section is the contract: every row of its table, and the demo
class students, log in with the password it names, hold the role it names at the library it
names, and reach the pages it names. Change the demo or the README and this notices."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from courses.classes.demo import CLASSES
from courses.models import ClassGroup
from libraries.models import Membership, Patron, Role
from libraries.network.demo import ACCOUNTS

README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass(frozen=True)
class Row:
    username: str
    role: Role | None  # None: superuser
    library: str | None  # None: "everything"
    notes: tuple[str, ...]  # the parenthesised remarks of the row
    urls: tuple[str, ...]  # the paths in the "Try" column, <CODE> resolved

    def __str__(self):
        return self.username


def demo_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Demo logins\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def readme_password() -> str:
    found = re.search(r"Every demo account has the password \*\*`([^`]+)`\*\*", demo_section())
    assert found, "README's Demo logins section no longer names the demo password"
    return found.group(1)


def role_words() -> dict[str, Role | None]:
    """The table's role words are the roles' English labels, lower-cased."""
    with translation.override("en"):
        words: dict[str, Role | None] = {str(role.label).lower(): role for role in Role}
    words["superuser"] = None
    return words


def readme_rows() -> list[Row]:
    lines = [line for line in demo_section().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["Username", "Role", "Library", "Try"], header
    words = role_words()
    rows = []
    for line in lines[2:]:  # past the header and its |---| separator
        username, role, library, tries = (cell.strip() for cell in line.strip("|").split("|"))
        notes = tuple(re.findall(r"\(([^)]*)\)", role + " " + tries))
        role_word = re.sub(r"\(.*?\)", "", role).strip()
        assert role_word in words, f"{username}: unknown role {role_word!r}"
        code = None if library == "everything" else library.split()[0]
        urls = tuple(
            url.replace("<CODE>", code or "") for url in re.findall(r"`(/[^`\s]*)`", tries)
        )
        rows.append(Row(username.strip("`"), words[role_word], code, notes, urls))
    return rows


ROWS = readme_rows()

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str) -> None:
    """Through the real allauth form, as a visitor would."""
    response = client.post(reverse("account_login"), {"login": username, "password": password})
    assert response.status_code == 302, f"{username} cannot log in with {password!r}"
    assert response["Location"] == "/"


def test_readme_lists_exactly_the_demo_accounts():
    assert [row.username for row in ROWS] == [account[0] for account in ACCOUNTS]
    assert all(row.urls for row in ROWS), "every row names at least one page to try"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_readme_row_is_true(row):
    call_command("load_demo")
    user = get_user_model().objects.get(username=row.username)
    client = Client()
    login(client, row.username, readme_password())
    if row.role is None:
        assert user.is_superuser and row.library is None
    else:
        assert Membership.objects.filter(
            user=user, library__code=row.library, role=row.role
        ).exists(), f"{row.username} is not {row.role.label} at {row.library}"
    if "no email address" in row.notes:
        assert user.email == ""
    if "has a reader card" in row.notes:
        assert Patron.objects.filter(user=user).exists()
    for url in row.urls:
        assert client.get(url).status_code == 200, f"{row.username}: {url}"


def test_demo_class_students_log_in_with_the_readme_password():
    call_command("load_demo")
    password = readme_password()
    class_groups = list(
        ClassGroup.objects.filter(
            library__code__in=list(CLASSES), name__in=[name for name, _ in CLASSES.values()]
        )
    )
    assert len(class_groups) == len(CLASSES)
    students = list(
        get_user_model()
        .objects.filter(
            class_memberships__class_group__in=class_groups,
            class_memberships__left_at__isnull=True,
        )
        .distinct()
    )
    # the generated students of every demo class, plus `hocsinh` who joined 6A
    assert len(students) == sum(len(names) for _, names in CLASSES.values()) + 1
    for student in students:
        login(Client(), student.username, password)
    teacher = Client()
    login(teacher, "giaovien", password)
    for class_group in class_groups:
        page = teacher.get(reverse("courses:class_detail", args=[class_group.pk]))
        assert page.status_code == 200
        for membership in class_group.memberships.filter(left_at__isnull=True):
            assert membership.student.username in page.content.decode()
