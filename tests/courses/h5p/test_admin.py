import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from libraries.models import Role
from tests.courses.h5p.support import fixture, h5p_network, media_files, upload_file
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/h5p/new/"
INDEX_URL = "/admin/h5p/"


def staff(role):
    return MembershipFactory(role=role).user


def upload(client, prefix, title="", library=""):
    return client.post(ADD_URL, {"title": title, "library": library, "file": upload_file(prefix)})


def operator_install(prefix, **kwargs):
    return install_package(validate_package(fixture(prefix)), by=OPERATOR, **kwargs)


def test_network_admin_uploads_a_package_with_its_libraries(client, settings):
    user = staff(Role.NETWORK_ADMIN)
    client.force_login(user)
    response = upload(client, "truefalse", title="Đúng hay sai?")
    assert response.status_code == 302
    assert response["Location"] == INDEX_URL
    package = H5PPackage.objects.get()
    assert package.title == "Đúng hay sai?"
    assert package.uploaded_by == user
    assert package.library is None  # left empty: the whole network's
    assert H5PLibrary.objects.filter(machine_name="H5P.TrueFalse").exists()
    assert (settings.MEDIA_ROOT / package.content_path / "content" / "content.json").is_file()
    # The stray H5P_CONTENT_HERE.txt was ignored, and staff are told so.
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any(m.startswith("H5P đã nhận gói với 1 lưu ý") for m in shown)


def test_library_admin_uploads_content_whose_libraries_are_installed(client):
    net = h5p_network()
    operator_install("truefalse")
    libraries_before = list(H5PLibrary.objects.values_list("pk", "patch_version", "updated_at"))
    client.force_login(net.school_admin)
    # The form offers only the libraries the admin administers, theirs chosen already.
    form = client.get(ADD_URL).context["form"]
    assert list(form.fields["library"].queryset) == [net.school]
    assert form.fields["library"].initial == net.school.pk
    response = upload(client, "truefalse", title="Bài của trường", library=net.school.pk)
    assert response.status_code == 302
    package = H5PPackage.objects.get(title="Bài của trường")
    assert package.library == net.school
    assert package.uploaded_by == net.school_admin
    # The packaged libraries were the installed ones: nothing about them changed.
    after = list(H5PLibrary.objects.values_list("pk", "patch_version", "updated_at"))
    assert after == libraries_before


def test_library_admin_cannot_leave_the_owner_empty_or_pick_a_library_out_of_reach(client):
    net = h5p_network()
    operator_install("truefalse")
    client.force_login(net.school_admin)
    before = H5PPackage.objects.count()
    empty = upload(client, "truefalse", library="")
    assert empty.status_code == 200
    assert empty.context["form"].errors["library"] == ["Trường này là bắt buộc."]
    other = upload(client, "truefalse", library=net.other_school.pk)
    assert other.status_code == 200
    assert "library" in other.context["form"].errors
    assert H5PPackage.objects.count() == before


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
    assert response.context["form"].errors["file"] == ["Tệp bị hỏng: không phải tệp ZIP hợp lệ."]
    assert media_files(settings.MEDIA_ROOT) == []


def test_upload_requires_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(Role.NETWORK_ADMIN))
    response = upload(client, "truefalse")
    assert response.status_code == 403
    assert H5PPackage.objects.count() == 0


def test_preview_plays_the_package_without_recording(client):
    package = operator_install("truefalse")
    client.force_login(staff(Role.LIBRARIAN))
    response = client.get(f"/admin/h5p/inspect/{package.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-h5p-json-path="/media/h5p/content/{package.uuid}"' in html
    assert 'data-libraries-path="/media/h5p/libraries"' in html
    assert 'data-xapi-endpoint=""' in html
    assert "/static/h5p-player/main.bundle.js" in html


def test_delete_removes_row_and_content(client, settings, django_capture_on_commit_callbacks):
    package = operator_install("truefalse")
    client.force_login(staff(Role.NETWORK_ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/h5p/delete/{package.pk}/")
    assert response.status_code == 302
    assert not H5PPackage.objects.exists()
    assert not (settings.MEDIA_ROOT / package.content_path).exists()


def test_chooser_lists_packages(client):
    package = operator_install("truefalse", title="Chọn tôi")
    client.force_login(staff(Role.LIBRARIAN))
    response = client.get("/admin/h5p-chooser/")
    assert response.status_code == 200
    assert "Chọn tôi" in response.json()["html"]
    assert str(package.pk) in response.json()["html"]


def test_lesson_h5p_block_plays_the_package_as_its_own_activity(client):
    from tests.courses.training.factories import h5p_block, make_course, make_lesson

    package = operator_install("truefalse")
    course = make_course()
    lesson = make_lesson(course, blocks=[h5p_block(package=package, pass_mark=80, block_id="b1")])
    user = UserFactory()
    client.force_login(user)
    html = client.get(lesson.url).content.decode()
    assert f'data-xapi-iri="http://testserver/courses/activity/{lesson.pk}/b1"' in html
    assert 'data-xapi-endpoint="/api/xapi/statements"' in html


def test_each_staff_member_lists_the_packages_in_sight(client):
    net = h5p_network()
    titles = {
        None: "Của mạng lưới",
        net.district: "Của huyện",
        net.school: "Của trường A",
        net.other_school: "Của trường B",
    }
    for library, title in titles.items():
        operator_install("truefalse", title=title, library=library)

    def listed(user):
        client.force_login(user)
        html = client.get(INDEX_URL).content.decode()
        return {title for title in titles.values() if title in html}

    everything = set(titles.values())
    assert listed(net.network_admin) == everything
    assert listed(net.district_admin) == everything
    # A school sees the network's and its district's packages (shared downwards), not a
    # sibling school's.
    above_and_own = {"Của mạng lưới", "Của huyện", "Của trường A"}
    assert listed(net.school_admin) == above_and_own
    assert listed(net.librarian) == above_and_own


def test_an_admin_manages_the_packages_of_the_libraries_below(
    client, settings, django_capture_on_commit_callbacks
):
    net = h5p_network()
    package = operator_install("truefalse", title="Của trường A", library=net.school)
    client.force_login(net.district_admin)
    # A library admin with several libraries picks the owner among those they administer.
    form = client.get(ADD_URL).context["form"]
    assert set(form.fields["library"].queryset) == {net.district, net.school, net.other_school}
    assert form.fields["library"].required
    edit = client.post(f"/admin/h5p/edit/{package.pk}/", {"title": "Đổi tên"})
    assert edit.status_code == 302
    package.refresh_from_db()
    assert package.title == "Đổi tên"
    with django_capture_on_commit_callbacks(execute=True):
        delete = client.post(f"/admin/h5p/delete/{package.pk}/")
    assert delete.status_code == 302
    assert not H5PPackage.objects.filter(pk=package.pk).exists()
    assert not (settings.MEDIA_ROOT / package.content_path).exists()


def test_a_school_admin_cannot_manage_its_districts_package(client):
    net = h5p_network()
    package = operator_install("truefalse", title="Của huyện", library=net.district)
    client.force_login(net.school_admin)
    assert client.get(f"/admin/h5p/inspect/{package.pk}/").status_code == 200
    assert client.post(f"/admin/h5p/delete/{package.pk}/").status_code == 404
    assert H5PPackage.objects.filter(pk=package.pk).exists()


def test_network_admin_may_leave_the_owner_empty_or_pick_any_library(client):
    net = h5p_network()
    client.force_login(net.network_admin)
    form = client.get(ADD_URL).context["form"]
    assert not form.fields["library"].required
    assert set(form.fields["library"].queryset) == {
        net.province,
        net.district,
        net.school,
        net.other_school,
    }


def test_library_admin_refusal_is_in_vietnamese_by_default(client, settings):
    net = h5p_network()
    before = media_files(settings.MEDIA_ROOT)
    client.force_login(net.school_admin)
    response = upload(client, "greetingcard-minimal", library=net.school.pk)
    assert response.context["form"].errors["file"] == [
        "Gói này sẽ cài đặt thư viện H5P H5P.GreetingCard1 1.0.6, hiện chưa có trên trang. "
        "Chỉ quản trị viên mạng lưới mới được cài đặt hoặc nâng cấp thư viện H5P: hãy nhờ một "
        "quản trị viên mạng lưới tải gói này lên trước."
    ]
    assert H5PPackage.objects.count() == H5PLibrary.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == before
