import base64
import re
import zlib

import pytest
import segno
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from courses.models import Certificate, Enrollment
from courses.training.certificates import (
    CertificateError,
    certificate_pdf,
    issue_certificate,
    revoke_certificate,
)
from courses.training.progress import enrol, mark_viewed
from libraries.models import Role
from tests.courses.training.factories import make_course, make_lesson
from tests.factories import LibraryFactory, MembershipFactory, UserFactory
from tests.pdf_text import pdf_fonts, pdf_text
from tests.threads import failures, run_together

NAME = "Nguyễn Thị Ánh Tuyết"
COURSE = "Chuyển đổi sang thư viện điện tử"


def completed_course(user, title=COURSE):
    course = make_course(title=title, certificate_enabled=False)
    lesson = make_lesson(course)
    enrol(user=user, course=course)
    mark_viewed(user=user, lesson=lesson)
    return course


@pytest.fixture
def certified(db):
    membership = MembershipFactory(role=Role.LIBRARIAN, user__display_name=NAME)
    user = membership.user
    course = completed_course(user)
    return issue_certificate(user=user, course=course)


def pdf_streams(pdf: bytes) -> list[bytes]:
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, re.S):
        data = match.group(1).strip()
        if data.endswith(b"~>"):  # ASCII85 over Flate (reportlab's page content)
            data = base64.a85decode(data[:-2])
        try:
            out.append(zlib.decompress(data))
        except zlib.error:
            out.append(data)
    return out


def mapped_characters(pdf: bytes) -> set[str]:
    """Characters the embedded fonts' ToUnicode maps say the PDF draws."""
    chars = set()
    for stream in pdf_streams(pdf):
        if b"begincmap" in stream:
            for hexcode in re.findall(rb"<[0-9A-Fa-f]+> <([0-9A-Fa-f]{4,})>", stream):
                chars.add(chr(int(hexcode, 16)))
    return chars


@pytest.mark.django_db
def test_certificate_is_issued_once(certified):
    again = issue_certificate(user=certified.user, course=certified.course)
    assert again.pk == certified.pk
    assert Certificate.objects.count() == 1
    assert certified.learner_name == NAME
    assert certified.course_title == COURSE
    assert certified.library_name == certified.library.name
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", certified.code)


@pytest.mark.django_db
def test_no_certificate_before_completion():
    user = UserFactory()
    course = make_course()
    make_lesson(course)
    enrol(user=user, course=course)
    with pytest.raises(CertificateError):
        issue_certificate(user=user, course=course)
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_pdf_is_a4_landscape_with_embedded_vietnamese_font(certified):
    pdf = certificate_pdf(certified, verify_url="https://example.org/certificates/verify/X/")
    assert pdf.startswith(b"%PDF-")
    assert re.search(rb"/MediaBox \[\s*0 0 841\.889\d* 595\.275\d*\s*\]", pdf)
    assert b"/FontFile2" in pdf  # TrueType embedded
    assert b"DejaVuSans" in pdf
    assert b"/Helvetica" not in pdf
    drawn = mapped_characters(pdf)
    for text in (NAME, COURSE, certified.code):
        missing = {ch for ch in text if ch != " "} - drawn
        assert not missing, f"glyphs missing for {missing}"


@pytest.mark.django_db
def test_pdf_text_reads_back_in_vietnamese(certified):
    with translation.override("vi"):
        pdf = certificate_pdf(certified, verify_url="https://example.org/certificates/verify/X/")
    lines = [line.strip() for line in pdf_text(pdf).splitlines()]
    assert lines[:7] == [
        "Cầu nối tri thức số",
        "Giấy chứng nhận hoàn thành",
        "Chứng nhận",
        NAME,
        "đã hoàn thành khoá học",
        COURSE,
        certified.library_name,
    ]
    assert lines[7].startswith("Cấp ngày ")
    assert lines[8:] == [
        f"Mã xác minh: {certified.code}",
        "Kiểm tra tại https://example.org/certificates/verify/X/",
    ]
    assert pdf_fonts(pdf) == {"DejaVuSans", "DejaVuSans-Bold"}


@pytest.mark.django_db
def test_owner_downloads_the_pdf(client, certified):
    client.force_login(certified.user)
    response = client.get(reverse("courses:certificate_download", args=[certified.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"certificate-{certified.code}.pdf" in response["Content-Disposition"]


@pytest.mark.django_db
def test_download_is_limited_to_owner_and_staff_in_reach(client, certified):
    url = reverse("courses:certificate_download", args=[certified.code])
    assert client.get(url).status_code == 302  # to login
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    staff_elsewhere = MembershipFactory(role=Role.LIBRARIAN, library=LibraryFactory())
    client.force_login(staff_elsewhere.user)
    assert client.get(url).status_code == 403
    parent = LibraryFactory()
    certified.library.parent = parent
    certified.library.save()
    staff_above = MembershipFactory(role=Role.LIBRARY_ADMIN, library=parent)
    client.force_login(staff_above.user)
    assert client.get(url).status_code == 200
    student_same_library = MembershipFactory(role=Role.STUDENT, library=certified.library)
    client.force_login(student_same_library.user)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_verification_page_shows_only_name_and_course(client, certified):
    certified.user.email = "tuyet@example.org"
    certified.user.save()
    response = client.get(reverse("courses:certificate_verify", args=[certified.code]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="message success"' in html
    assert NAME in html and COURSE in html
    assert certified.user.username not in html
    assert "tuyet@example.org" not in html
    assert certified.library_name not in html


@pytest.mark.django_db
def test_verification_accepts_lowercase_code(client, certified):
    url = reverse("courses:certificate_verify", args=[certified.code.lower()])
    assert client.get(url).status_code == 200
    lookup = client.get(reverse("courses:certificate_lookup"), {"code": f" {certified.code} "})
    assert lookup["Location"] == reverse("courses:certificate_verify", args=[certified.code])


@pytest.mark.django_db
def test_unknown_code_is_not_genuine(client, certified):
    response = client.get(reverse("courses:certificate_verify", args=["AAAA-BBBB-CCCC"]))
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="message error"' in html
    assert NAME not in html


def revoked(certified, reason="issued_in_error", note="Nhập nhầm kết quả của Nguyễn Văn Nam."):
    admin = MembershipFactory(role=Role.LIBRARY_ADMIN, library=certified.library).user
    return revoke_certificate(certificate_id=certified.pk, reason=reason, note=note, by=admin)


@pytest.mark.django_db
def test_revoked_certificate_is_not_genuine(client, certified):
    certificate = revoked(certified)
    with translation.override("vi"):
        response = client.get(reverse("courses:certificate_verify", args=[certified.code]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="message error"' in html and 'class="message success"' not in html
    assert "Giấy chứng nhận này đã bị thu hồi: không còn giá trị." in html
    revoked_on = formats.date_format(
        timezone.localtime(certificate.revoked_at), "SHORT_DATE_FORMAT"
    )
    assert f"<dt>Thu hồi ngày</dt><dd>{revoked_on}</dd>" in html
    assert "<dt>Lý do</dt><dd>Cấp nhầm</dd>" in html
    # No personal detail: not the learner, the course, the library, nor the staff note.
    for private in (NAME, COURSE, certified.library_name, "Nguyễn Văn Nam", "Nhập nhầm"):
        assert private not in html


@pytest.mark.django_db
def test_revoked_certificate_pdf_says_so(client, certified):
    certificate = revoked(certified, reason="not_earned")
    client.force_login(certified.user)  # the learner still downloads it: it says revoked
    with translation.override("vi"):
        pdf = certificate_pdf(certificate, verify_url="https://example.org/certificates/verify/X/")
    text = pdf_text(pdf)
    revoked_on = formats.date_format(
        timezone.localtime(certificate.revoked_at), "SHORT_DATE_FORMAT"
    )
    assert "ĐÃ THU HỒI: giấy chứng nhận này không còn giá trị" in text
    assert f"Thu hồi ngày {revoked_on}. Lý do: Không đạt yêu cầu một cách trung thực." in text
    assert "Nhập nhầm" not in text  # the staff note stays in the staff area
    assert NAME in text and certificate.code in text
    response = client.get(reverse("courses:certificate_download", args=[certified.code]))
    assert response.status_code == 200
    assert "ĐÃ THU HỒI: giấy chứng nhận này không còn giá trị" in pdf_text(response.content)
    # A valid certificate carries no such words.
    other = issue_certificate(user=certified.user, course=completed_course(certified.user, "Khác"))
    with translation.override("vi"):
        assert "THU HỒI" not in pdf_text(certificate_pdf(other, verify_url="https://x/"))


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_revoking_is_once_with_a_reason(certified):
    first = revoked(certified)
    row = Certificate.objects.filter(pk=certified.pk).values().get()
    revoked_on = formats.date_format(timezone.localtime(first.revoked_at), "SHORT_DATE_FORMAT")
    with pytest.raises(CertificateError) as refused:
        revoked(certified, reason="duplicate", note="again")
    assert str(refused.value) == f"This certificate was already revoked on {revoked_on}."
    assert Certificate.objects.filter(pk=certified.pk).values().get() == row
    assert (first.revoked_reason, first.revoked_note) == (
        "issued_in_error",
        "Nhập nhầm kết quả của Nguyễn Văn Nam.",
    )
    fresh = issue_certificate(user=certified.user, course=completed_course(certified.user, "B"))
    with pytest.raises(CertificateError) as refused:
        revoke_certificate(certificate_id=fresh.pk, reason="", by=first.revoked_by)
    assert str(refused.value) == "Choose the reason for revoking the certificate."
    assert Certificate.objects.get(pk=fresh.pk).revoked_at is None


@pytest.mark.django_db
def test_the_database_refuses_a_revocation_without_a_reason(certified):
    certified.revoked_at = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        certified.save()


@pytest.mark.django_db
def test_pdf_carries_the_verification_address_and_its_qr_code(client, certified):
    client.force_login(certified.user)
    pdf = client.get(reverse("courses:certificate_download", args=[certified.code])).content
    verify_url = f"http://testserver/certificates/verify/{certified.code}/"
    content = b"".join(stream for stream in pdf_streams(pdf) if b" Tf" in stream)
    assert verify_url.encode() in content  # ASCII is drawn through the first font subset
    dark_modules = sum(sum(row) for row in segno.make(verify_url, error="m").matrix)
    assert len(re.findall(rb" re f\b", content)) == dark_modules


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_certificate_issued_once_under_concurrency():
    user = UserFactory(display_name=NAME)
    course = completed_course(user)
    codes = run_together([lambda: issue_certificate(user=user, course=course).code] * 8)
    assert failures(codes) == []
    assert len(codes) == 8 and len(set(codes)) == 1
    assert Certificate.objects.filter(user=user, course=course).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_enrolment_unique_under_concurrency():
    user = UserFactory()
    course = make_course()
    make_lesson(course)
    pks = run_together([lambda: enrol(user=user, course=course).pk] * 8)
    assert failures(pks) == []
    assert len(set(pks)) == 1
    assert Enrollment.objects.filter(user=user, course=course).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_revoking_at_once_revoke_once():
    learner = MembershipFactory(role=Role.LIBRARIAN).user
    certificate = issue_certificate(user=learner, course=completed_course(learner))
    admins = [
        MembershipFactory(role=Role.LIBRARY_ADMIN, library=certificate.library).user
        for _ in range(4)
    ]
    outcomes = run_together(
        [
            lambda admin=admin: (
                revoke_certificate(
                    certificate_id=certificate.pk, reason="other", by=admin
                ).revoked_by_id
            )
            for admin in admins
        ]
    )
    errors = failures(outcomes)
    assert len(errors) == 3
    assert all(isinstance(e, CertificateError) for e in errors)
    winner = next(o for o in outcomes if not isinstance(o, Exception))
    assert Certificate.objects.get(pk=certificate.pk).revoked_by_id == winner
