import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from courses.h5p.storage import install_package
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from libraries.models import Role
from tests.courses.h5p.support import fixture, media_files
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/h5p/new/"
INDEX_URL = "/admin/h5p/"


def staff(role):
    return MembershipFactory(role=role).user


def upload(client, prefix, title=""):
    path = fixture(prefix)
    data = SimpleUploadedFile(path.name, path.read_bytes(), "application/zip")
    return client.post(ADD_URL, {"title": title, "file": data})


@pytest.mark.parametrize("role", [Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN])
def test_admins_upload_a_package(client, role, settings):
    user = staff(role)
    client.force_login(user)
    response = upload(client, "truefalse", title="Đúng hay sai?")
    assert response.status_code == 302
    assert response["Location"] == INDEX_URL
    package = H5PPackage.objects.get()
    assert package.title == "Đúng hay sai?"
    assert package.uploaded_by == user
    assert (settings.MEDIA_ROOT / package.content_path / "content" / "content.json").is_file()
    # The stray H5P_CONTENT_HERE.txt was ignored, and staff are told so.
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any(m.startswith("H5P đã nhận gói với 1 lưu ý") for m in shown)


def test_librarian_may_list_but_not_upload(client, settings):
    client.force_login(staff(Role.LIBRARIAN))
    assert client.get(INDEX_URL).status_code == 200
    response = upload(client, "truefalse")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert H5PPackage.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []


def test_teacher_cannot_open_the_admin(client):
    client.force_login(staff(Role.TEACHER))
    response = client.get(INDEX_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_refused_upload_shows_the_reason_and_leaves_nothing(client, settings):
    client.force_login(staff(Role.NETWORK_ADMIN))
    response = upload(client, "content-only")
    assert response.status_code == 200
    # Staff see the admin in their language, Vietnamese by default.
    assert response.context["form"].errors["file"] == [
        "Thiếu thư viện H5P (hãy tải lên trước một gói có chứa chúng): H5P.Blanks 1.14"
    ]
    assert H5PPackage.objects.count() == H5PLibrary.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []


def test_not_a_zip_is_refused_in_the_form(client, settings):
    client.force_login(staff(Role.NETWORK_ADMIN))
    data = SimpleUploadedFile("lesson.h5p", b"plain text", "application/zip")
    response = client.post(ADD_URL, {"title": "", "file": data})
    assert response.context["form"].errors["file"] == [
        "Đây không phải tệp H5P: không phải tệp ZIP hợp lệ."
    ]
    assert media_files(settings.MEDIA_ROOT) == []


def test_upload_requires_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(Role.NETWORK_ADMIN))
    response = upload(client, "truefalse")
    assert response.status_code == 403
    assert H5PPackage.objects.count() == 0


def test_preview_plays_the_package_without_recording(client):
    package = install_package(validate_package(fixture("truefalse")))
    client.force_login(staff(Role.LIBRARIAN))
    response = client.get(f"/admin/h5p/inspect/{package.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-h5p-json-path="/media/h5p/content/{package.uuid}"' in html
    assert 'data-libraries-path="/media/h5p/libraries"' in html
    assert 'data-xapi-endpoint=""' in html
    assert "/static/h5p-player/main.bundle.js" in html


def test_delete_removes_row_and_content(client, settings, django_capture_on_commit_callbacks):
    package = install_package(validate_package(fixture("truefalse")))
    client.force_login(staff(Role.NETWORK_ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/h5p/delete/{package.pk}/")
    assert response.status_code == 302
    assert not H5PPackage.objects.exists()
    assert not (settings.MEDIA_ROOT / package.content_path).exists()


def test_chooser_lists_packages(client):
    package = install_package(validate_package(fixture("truefalse")), title="Chọn tôi")
    client.force_login(staff(Role.LIBRARIAN))
    response = client.get("/admin/h5p-chooser/")
    assert response.status_code == 200
    assert "Chọn tôi" in response.json()["html"]
    assert str(package.pk) in response.json()["html"]


def test_lesson_h5p_block_plays_the_package_as_its_own_activity(client):
    from tests.courses.training.factories import h5p_block, make_course, make_lesson

    package = install_package(validate_package(fixture("truefalse")))
    course = make_course()
    lesson = make_lesson(course, blocks=[h5p_block(package=package, pass_mark=80, block_id="b1")])
    user = UserFactory()
    client.force_login(user)
    html = client.get(lesson.url).content.decode()
    assert f'data-xapi-iri="http://testserver/courses/activity/{lesson.pk}/b1"' in html
    assert 'data-xapi-endpoint="/api/xapi/statements"' in html
