"""Notices to readers (libraries/circulation/notices.py, NoticeTemplate): Vietnamese by default,
a library's own wording with placeholders filled safely, the reader's language, the built-in
text as fallback, and the snippet in the staff area (permission matrix, refusals, preview)."""

import datetime
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.circulation import patrons
from libraries.circulation.notices import compose
from libraries.circulation.services import check_in, check_out
from libraries.models import NoticeKind, NoticeTemplate, RegistrationRequest, Role
from libraries.models.circulation import NOTICE_PLACEHOLDERS, NOTICE_SAMPLE_VALUES
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, hold
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = pytest.mark.django_db

ADMINS = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN}
OVERDUE_BODY = "Kính gửi {reader_name} ({card_number}),\n{item_count} tài liệu quá hạn:\n{items}"


def overdue_for(network, patron, count=1):
    items = [ItemFactory(library=network.a) for _ in range(count)]
    long_ago = timezone.now() - datetime.timedelta(days=30)
    for item in items:
        check_out(item_barcode=item.barcode, card_number=patron.card_number,
                  by=network.admin, at=network.a, now=long_ago)  # fmt: skip
    return items


def send_overdue():
    call_command("send_overdue_notices", stdout=io.StringIO())


# --- The built-in text, in the reader's language ---------------------------------------------


def test_built_in_overdue_notice_is_vietnamese_by_default(network, settings):
    settings.LANGUAGE_CODE = "vi"
    patron = PatronFactory(home_library=network.a, full_name="Trần Văn Bình")
    items = overdue_for(network, patron, 2)
    send_overdue()
    message = mail.outbox[-1]
    assert message.subject == "Tài liệu quá hạn"
    assert message.body.startswith(
        "Chào Trần Văn Bình,\n\ncác tài liệu sau đã quá hạn; vui lòng trả hoặc gia hạn:\n- "
    )
    assert f"({items[0].barcode}), hạn trả " in message.body
    assert message.body.endswith("\n\nThư viện THCS A")


def test_a_reader_who_chose_english_gets_english(network, settings):
    settings.LANGUAGE_CODE = "vi"
    reader = UserFactory(preferred_language="en")
    patron = PatronFactory(home_library=network.a, full_name="Mai", user=reader)
    overdue_for(network, patron)
    send_overdue()
    assert mail.outbox[-1].subject == "Overdue items"
    assert mail.outbox[-1].body.startswith("Hello Mai,\n\nthese items are overdue")


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("kind", NoticeKind.values)
def test_every_built_in_text_fills_in_both_languages(network, kind, language):
    subject, body = compose(kind, library=network.a, language=language, values=NOTICE_SAMPLE_VALUES)
    assert subject and "{" not in subject + body
    assert NOTICE_SAMPLE_VALUES["reader_name"] in body


# --- A library's own wording -------------------------------------------------------------------


def test_a_library_template_words_the_overdue_notice(network, settings):
    settings.LANGUAGE_CODE = "vi"
    NoticeTemplate.objects.create(
        library=network.a,
        kind=NoticeKind.OVERDUE,
        subject="Nhắc trả sách: {item_count} cuốn, hạn {due_date}",
        body=OVERDUE_BODY,
    )
    patron = PatronFactory(home_library=network.a, full_name="Lê Thu")
    items = overdue_for(network, patron, 2)
    send_overdue()
    message = mail.outbox[-1]
    due = timezone.localtime(items[0].loans.get().due_at).strftime("%d/%m/%Y")
    assert message.subject == f"Nhắc trả sách: 2 cuốn, hạn {due}"
    assert message.body.startswith(
        f"Kính gửi Lê Thu ({patron.card_number}),\n2 tài liệu quá hạn:\n- "
    )
    # Readers of another library keep the built-in text.
    other = PatronFactory(home_library=network.b)
    overdue_for(network, other)  # lent at school A, but their library is school B
    send_overdue()
    assert mail.outbox[-1].subject == "Tài liệu quá hạn"


def test_an_english_reader_gets_the_english_template_or_the_built_in_english(network):
    NoticeTemplate.objects.create(
        library=network.a, kind=NoticeKind.OVERDUE, subject="Quá hạn", body=OVERDUE_BODY
    )
    reader = UserFactory(preferred_language="en")
    patron = PatronFactory(home_library=network.a, user=reader)
    overdue_for(network, patron)
    send_overdue()
    assert mail.outbox[-1].subject == "Overdue items"
    NoticeTemplate.objects.create(
        library=network.a,
        kind=NoticeKind.OVERDUE,
        language="en",
        subject="Late: {item_count}",
        body="Dear {reader_name}",
    )
    mail.outbox.clear()
    overdue_for(network, patron)
    send_overdue()
    assert (mail.outbox[-1].subject, mail.outbox[-1].body) == (
        "Late: 1",
        f"Dear {patron.full_name}",
    )


def test_hold_available_notice_uses_the_pickup_library_template(
    network, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "vi"
    NoticeTemplate.objects.create(
        library=network.a,
        kind=NoticeKind.HOLD_AVAILABLE,
        subject="Sách “{title}” đã về",
        body="{reader_name}: nhận tại {library_name} trước {pickup_until}.",
    )
    item = ItemFactory(library=network.a, record__title="Dế Mèn phiêu lưu ký")
    borrower, waiting = PatronFactory(home_library=network.a), PatronFactory(home_library=network.a)
    check_out(item_barcode=item.barcode, card_number=borrower.card_number,
              by=network.librarian_a, at=network.a)  # fmt: skip
    hold(item, waiting, by=network.librarian_a)
    with django_capture_on_commit_callbacks(execute=True):
        check_in(item_barcode=item.barcode, by=network.librarian_a, at=network.a)
    message = mail.outbox[-1]
    until = (timezone.localdate() + datetime.timedelta(days=7)).strftime("%d/%m/%Y")
    assert message.to == [waiting.email]
    assert message.subject == "Sách “Dế Mèn phiêu lưu ký” đã về"
    assert message.body == f"{waiting.full_name}: nhận tại Thư viện THCS A trước {until}."


def test_card_approved_notice(network, settings, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "vi"
    application = RegistrationRequest.objects.create(
        full_name="Hoa",
        date_of_birth=datetime.date(1995, 3, 3),
        home_library=network.a,
        email="hoa@example.org",
    )
    with django_capture_on_commit_callbacks(execute=True):
        patron = patrons.approve_registration(request_id=application.pk, by=network.librarian_a)
    message = mail.outbox[-1]
    assert message.subject == "Thẻ bạn đọc của bạn đã sẵn sàng"
    assert message.body == (
        "Chào Hoa,\n\nthẻ bạn đọc THCSA-000001 của bạn tại Thư viện THCS A đã sẵn sàng. "
        "Hãy mang theo giấy tờ tùy thân khi đến nhận. Thẻ có hiệu lực đến "
        f"{patron.expires_on:%d/%m/%Y}."
    )


def test_reader_data_is_never_read_as_a_placeholder(network, settings):
    """A name that looks like a placeholder or template code is printed as it is."""
    settings.LANGUAGE_CODE = "vi"
    NoticeTemplate.objects.create(
        library=network.a,
        kind=NoticeKind.OVERDUE,
        subject="{reader_name}",
        body="{reader_name} {{card_number}} {card_number}",
    )
    patron = PatronFactory(home_library=network.a, full_name="{card_number} {{ 7|add:7 }} %(x)s")
    overdue_for(network, patron)
    send_overdue()
    message = mail.outbox[-1]
    assert message.subject == "{card_number} {{ 7|add:7 }} %(x)s"
    assert message.body == ("{card_number} {{ 7|add:7 }} %(x)s {card_number} " + patron.card_number)


# --- Refused at save ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Chào {ten_ban_doc}", "Unknown placeholder {ten_ban_doc}. This notice may use: "),
        ("{title}", "Unknown placeholder {title}."),  # a hold's placeholder, not an overdue one
        ("{reader_name.__class__}", "Write placeholders as a name in braces"),
        ("{reader_name!r}", "Write placeholders as a name in braces"),
        ("{reader_name:>999999999}", "Write placeholders as a name in braces"),
        ("{items[0]}", "Write placeholders as a name in braces"),
        ("{}", "Write placeholders as a name in braces"),
        ("Chào {reader_name", "Unbalanced braces"),
        ("Giá } sách", "Unbalanced braces"),
    ],
)
def test_placeholders_are_checked_at_save(network, body, expected):
    template = NoticeTemplate(
        library=network.a, kind=NoticeKind.OVERDUE, subject="Quá hạn", body=body
    )
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert refused.value.message_dict["body"][0].startswith(expected)


def test_the_error_names_the_placeholders_the_notice_offers(network):
    template = NoticeTemplate(
        library=network.a, kind=NoticeKind.CARD_APPROVED, subject="{x}", body="ok {{braces}}"
    )
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert refused.value.message_dict == {
        "subject": [
            "Unknown placeholder {x}. This notice may use: {reader_name}, {card_number}, "
            "{library_name}, {expires_on}."
        ]
    }
    template.subject = "Thẻ {card_number}"
    template.full_clean()
    assert template.render(NOTICE_SAMPLE_VALUES) == ("Thẻ THCSA-000123", "ok {braces}")


# --- The snippet in the staff area -------------------------------------------------------------


matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role or 'anonymous'}-{target}" for role in ALL_ROLES for target in TARGETS],
)


def outcome(role, target) -> str:
    if role in {Role.TEACHER, Role.STUDENT, Role.READER, None}:
        return "login"
    if role not in ADMINS:
        return "forbidden"
    return "ok" if target in ("own", "child") else "out_of_reach"


def object_outcome(role, target) -> str:
    """A screen of one template looks it up among those the user administers first: a
    librarian finds none (404) before the role is asked."""
    expected = outcome(role, target)
    return "out_of_reach" if expected == "forbidden" else expected


def template_rows() -> list[tuple]:
    return list(
        NoticeTemplate.objects.order_by("pk").values_list(
            "pk", "library_id", "kind", "language", "subject", "body"
        )
    )


def url(name, *args):
    return reverse(f"wagtailsnippets_libraries_noticetemplate:{name}", args=args)


@pytest.fixture
def templates(tree):
    return {
        name: NoticeTemplate.objects.create(
            library=tree.target(name), kind=NoticeKind.HOLD_AVAILABLE, subject=name, body="{title}"
        )
        for name in TARGETS
    }


def form_data(library, **changes):
    data = {"library": library.pk, "kind": "hold_available", "language": "vi",
            "subject": "Sách {title} đã về", "body": "Chào {reader_name}."}  # fmt: skip
    return {**data, **changes}


def assert_refused(response, expected):
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
def test_template_list_shows_the_libraries_administered(member_client, templates, role):
    client, _user = member_client(role)
    response = client.get(url("list"))
    expected = outcome(role, "own")
    if expected != "ok":
        assert_refused(response, expected)
        return
    assert response.status_code == 200
    assert {t.subject for t in response.context["object_list"]} == {"own", "child"}


@matrix
def test_template_create_at_target(member_client, tree, role, target):
    client, _user = member_client(role)
    before = template_rows()
    response = client.post(url("add"), form_data(tree.target(target)))
    expected = outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        created = NoticeTemplate.objects.get()
        assert (created.library, created.subject) == (tree.target(target), "Sách {title} đã về")
        return
    if expected == "out_of_reach":
        assert response.status_code == 200
        assert response.context["form"].errors["library"]
    else:
        assert_refused(response, expected)
    assert template_rows() == before


@matrix
def test_template_edit_at_target(member_client, templates, role, target):
    client, _user = member_client(role)
    template = templates[target]
    before = template_rows()
    response = client.post(url("edit", template.pk), form_data(template.library, subject="Mới"))
    expected = object_outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        assert NoticeTemplate.objects.get(pk=template.pk).subject == "Mới"
        return
    assert_refused(response, expected)
    assert template_rows() == before


@matrix
def test_template_delete_at_target(member_client, templates, role, target):
    client, _user = member_client(role)
    template = templates[target]
    before = template_rows()
    response = client.post(url("delete", template.pk))
    expected = object_outcome(role, target)
    if expected == "ok":
        assert response.status_code == 302
        assert template_rows() == [row for row in before if row[0] != template.pk]
        return
    assert_refused(response, expected)
    assert template_rows() == before


def test_an_unknown_placeholder_is_refused_with_a_clear_message(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    response = client.post(url("add"), form_data(tree.own, body="Chào {ho_ten}, {title}"))
    assert response.status_code == 200
    assert response.context["form"].errors["body"] == [
        "Unknown placeholder {ho_ten}. This notice may use: {reader_name}, {card_number}, "
        "{library_name}, {title}, {pickup_until}."
    ]
    assert template_rows() == []


def test_one_template_per_library_notice_and_language(member_client, tree, templates):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    before = template_rows()
    response = client.post(url("add"), form_data(tree.own))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This library already has this notice in this language."
    ]
    assert template_rows() == before
    assert client.post(url("add"), form_data(tree.own, language="en")).status_code == 302


def test_the_form_documents_the_placeholders(member_client):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    help_text = client.get(url("add")).context["form"].fields["body"].help_text
    for names in NOTICE_PLACEHOLDERS.values():
        for name in names:
            assert f"{{{name}}}" in help_text


def test_preview_with_sample_data(member_client, tree, templates):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = form_data(
        tree.own, language="en", body="{reader_name}: “{title}” waits until {pickup_until}."
    )
    assert client.post(url("preview_on_add"), data).json()["is_valid"] is True
    page = client.get(url("preview_on_add")).content.decode()
    assert "Sách Dế Mèn phiêu lưu ký đã về" in page
    assert "Nguyễn Thị Mai: “Dế Mèn phiêu lưu ký” waits until 12/03/2026." in page
    bad = client.post(url("preview_on_add"), form_data(tree.own, body="{nope}")).json()
    assert bad["is_valid"] is False
    # Previewing another library's template is refused.
    theirs = templates["sibling"]
    response = client.post(url("preview_on_edit", theirs.pk), form_data(theirs.library))
    assert response.status_code == 403


def test_saving_a_template_needs_the_csrf_token(tree):
    from tests.factories import member

    client = Client(enforce_csrf_checks=True)
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    assert client.post(url("add"), form_data(tree.own)).status_code == 403
    assert template_rows() == []
