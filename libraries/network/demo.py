"""Demo step: a fictional provincial network, one account per role, a pending join request.

Other demo steps look libraries up by these codes: provincial TVT; districts HBT, DDA, CGY;
schools THCSA, THCSB (HBT), THPTC, THPTD (DDA), THE, THF (CGY).
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from wagtail.models import Locale, Page, Site

from libraries.models import JoinRequest, Library, Membership, NetworkPage, Role
from training_site.models import HomePage

DEMO_PASSWORD = "demo12345"  # noqa: S105  (documented in README.md; demo only)

# code, name, kind, parent code, address
LIBRARIES = [
    ("TVT", "Thư viện tỉnh Sông Hồng", "provincial", None, "12 đường Tràng Thi, TP Sông Hồng"),
    ("HBT", "Thư viện huyện Hòa Bình", "district", "TVT", "5 phố Lê Lợi, huyện Hòa Bình"),
    ("DDA", "Thư viện huyện Đông Đa", "district", "TVT", "27 đường Nguyễn Trãi, huyện Đông Đa"),
    ("CGY", "Thư viện huyện Cầu Giấy", "district", "TVT", "8 ngõ Văn Cao, huyện Cầu Giấy"),
    ("THCSA", "Thư viện Trường THCS An Bình", "school", "HBT", "Xã An Bình, huyện Hòa Bình"),
    ("THCSB", "Thư viện Trường THCS Bình Minh", "school", "HBT", "Xã Bình Minh, huyện Hòa Bình"),
    ("THPTC", "Thư viện Trường THPT Chu Văn An", "school", "DDA", "Thị trấn Đông Đa"),
    ("THPTD", "Thư viện Trường THPT Đoàn Kết", "school", "DDA", "Xã Đoàn Kết, huyện Đông Đa"),
    ("THE", "Thư viện Trường Tiểu học Yên Hòa", "school", "CGY", "Phường Yên Hòa, Cầu Giấy"),
    ("THF", "Thư viện Trường Tiểu học Phú Lâm", "school", "CGY", "Xã Phú Lâm, huyện Cầu Giấy"),
]

# username, display name, email ("" = none), library code, role (None = superuser)
ACCOUNTS = [
    ("admin", "Quản trị hệ thống", "admin@demo.thuvien.vn", None, None),
    ("mang", "Nguyễn Thị Mạng", "mang@demo.thuvien.vn", "TVT", Role.NETWORK_ADMIN),
    ("quanly", "Trần Văn Quản", "quanly@demo.thuvien.vn", "HBT", Role.LIBRARY_ADMIN),
    (
        "quantri_thcsa",
        "Lê Thị Quản Trị",
        "quantri.thcsa@demo.thuvien.vn",
        "THCSA",
        Role.LIBRARY_ADMIN,
    ),
    ("thuthu", "Phạm Thị Thu", "thuthu@demo.thuvien.vn", "THCSA", Role.LIBRARIAN),
    ("giaovien", "Hoàng Văn Giáo", "giaovien@demo.thuvien.vn", "THCSA", Role.TEACHER),
    ("hocsinh", "Học sinh Minh", "", "THCSA", Role.STUDENT),
    ("bandoc", "Vũ Thị Đọc", "bandoc@demo.thuvien.vn", "THCSA", Role.READER),
]


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text)


def load_libraries() -> dict[str, Library]:
    libraries: dict[str, Library] = {}
    for code, name, kind, parent_code, address in LIBRARIES:
        library, created = Library.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": libraries.get(parent_code),
                "address": address,
                "email": f"{code.lower()}@demo.thuvien.vn",
                "phone": "0200 3800 000",
            },
        )
        libraries[code] = library
    return libraries


def load_accounts(libraries: dict[str, Library]) -> None:
    User = get_user_model()
    for username, display_name, email, code, role in ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=display_name, email=email)
            user.set_password(DEMO_PASSWORD)
            user.is_superuser = user.is_staff = role is None
            user.save()
        if email:
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        if role is not None:
            Membership.objects.get_or_create(user=user, library=libraries[code], role=role)


def load_join_request(libraries: dict[str, Library]) -> None:
    if JoinRequest.objects.filter(school_name="Trường THCS Hồng Hà").exists():
        return
    JoinRequest.objects.create(
        school_name="Trường THCS Hồng Hà",
        address="Xã Hồng Hà, huyện Hòa Bình",
        contact_name="Đỗ Thị Hà",
        contact_email="hongha@demo.thuvien.vn",
        contact_phone="0912 000 111",
        parent=libraries["HBT"],
        message="Thư viện trường có khoảng 3.000 đầu sách và muốn tham gia mạng lưới.",
    )


def ensure_home_page() -> HomePage:
    """The home page a migration made, made again after the database was flushed
    (`manage.py flush`, transactional tests): the demo's pages hang below it."""
    home = HomePage.objects.first()
    if home:
        return home
    Locale.objects.get_or_create(language_code="vi")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=HomePage(title="Cầu nối tri thức số", slug="home"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    return home


def load_network_page() -> None:
    if NetworkPage.objects.exists():
        return
    home = ensure_home_page()
    home.add_child(
        instance=NetworkPage(
            title="Mạng lưới thư viện",
            slug="mang-luoi",
            intro="<p>Các thư viện thành viên của mạng lưới, theo từng huyện.</p>",
        )
    )


def load(stdout=None) -> None:
    libraries = load_libraries()
    load_accounts(libraries)
    load_join_request(libraries)
    load_network_page()
    _say(stdout, f"Demo network: {len(libraries)} libraries, {len(ACCOUNTS)} accounts.")
