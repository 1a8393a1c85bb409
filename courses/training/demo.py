"""Demo training content: three courses (one per audience) and two how-to guides, in Vietnamese.

``load(stdout=None, h5p_dir=None)`` is idempotent: pages are looked up by slug and left as
they are when present. With ``h5p_dir`` the .h5p files found there are imported (by the H5P
module, when installed) and added as activities to the teachers' H5P lesson.
"""

import json
import uuid
from pathlib import Path

from django.db import transaction

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from courses.models import (
    CourseIndexPage,
    CoursePage,
    GuideIndexPage,
    GuidePage,
    H5PPackage,
    LessonPage,
)
from training_site.models import HomePage

H5P_LESSON_SLUG = "bai-tap-tuong-tac-voi-h5p"


def _id() -> str:
    return str(uuid.uuid4())


def text(html: str) -> dict:
    return {"type": "text", "id": _id(), "value": html}


def quiz(title: str, questions: list, pass_mark: int | None = 60) -> dict:
    """questions: (question, [answers], correct indexes, explanation)."""
    return {
        "type": "quiz",
        "id": _id(),
        "value": {
            "title": title,
            "required": True,
            "pass_mark": pass_mark,
            "questions": [
                {
                    "question": question,
                    "kind": "multiple" if len(correct) > 1 else "single",
                    "explanation": explanation,
                    "choices": [
                        {"text": answer, "correct": index in correct}
                        for index, answer in enumerate(answers)
                    ],
                }
                for question, answers, correct, explanation in questions
            ],
        },
    }


COURSES = [
    {
        "slug": "chuyen-doi-sang-thu-vien-dien-tu",
        "title": "Chuyển đổi sang thư viện điện tử",
        "audience": "librarians",
        "level": "beginner",
        "estimated_minutes": 90,
        "summary": (
            "Khoá học dành cho cán bộ thư viện trường học và thư viện huyện: từ sổ sách giấy "
            "sang mục lục trực tuyến, mã vạch và lưu thông trên máy tính."
        ),
        "outcomes": (
            "Giải thích được thư viện điện tử khác thư viện truyền thống ở đâu\n"
            "Biên mục một cuốn sách và dán nhãn mã vạch đúng cách\n"
            "Cho mượn, nhận trả và gia hạn sách trên hệ thống"
        ),
        "lessons": [
            {
                "slug": "thu-vien-dien-tu-la-gi",
                "title": "Thư viện điện tử là gì?",
                "intro": "Những thay đổi chính khi thư viện chuyển sang làm việc trên máy tính.",
                "minutes": 25,
                "body": [
                    text(
                        "<h2>Từ sổ đăng ký cá biệt đến cơ sở dữ liệu</h2>"
                        "<p>Trong thư viện truyền thống, mỗi cuốn sách được ghi vào sổ đăng ký "
                        "cá biệt và phiếu mục lục. Thư viện điện tử vẫn giữ những nghiệp vụ đó, "
                        "nhưng dữ liệu được lưu một lần trong cơ sở dữ liệu và dùng lại cho "
                        "tra cứu, mượn trả, kiểm kê và báo cáo.</p>"
                        "<ul><li><b>Biểu ghi thư mục</b>: mô tả một tên sách (nhan đề, tác giả, "
                        "nhà xuất bản, năm, ISBN).</li>"
                        "<li><b>Bản sách</b>: từng cuốn cụ thể trên giá, có mã vạch riêng.</li>"
                        "<li><b>Mục lục trực tuyến (OPAC)</b>: bạn đọc tự tra cứu trên điện "
                        "thoại, không cần đến tủ phiếu.</li></ul>"
                        "<p>Khi tham gia mạng lưới thư viện của tỉnh, thư viện trường có thể chia "
                        "sẻ mục lục và cho mượn liên thư viện.</p>"
                    ),
                    quiz(
                        "Kiểm tra bài 1",
                        [
                            (
                                "Một tên sách có 5 cuốn trên giá. Hệ thống có bao nhiêu biểu "
                                "ghi thư mục và bao nhiêu bản sách?",
                                [
                                    "5 biểu ghi, 5 bản sách",
                                    "1 biểu ghi, 5 bản sách",
                                    "1 biểu ghi, 1 bản sách",
                                ],
                                [1],
                                "Một biểu ghi mô tả tên sách; mỗi cuốn là một bản sách "
                                "có mã vạch riêng.",
                            ),
                            (
                                "Những việc nào dùng chung dữ liệu của thư viện điện tử?",
                                ["Tra cứu", "Mượn trả", "Kiểm kê", "Sửa máy in"],
                                [0, 1, 2],
                                "Tra cứu, mượn trả và kiểm kê đều dùng cùng một cơ sở dữ liệu.",
                            ),
                        ],
                    ),
                ],
            },
            {
                "slug": "bien-muc-va-ma-vach",
                "title": "Biên mục và mã vạch",
                "intro": "Nhập một cuốn sách vào hệ thống và dán nhãn mã vạch.",
                "minutes": 30,
                "body": [
                    text(
                        "<h2>Biên mục theo MARC21</h2>"
                        "<p>MARC21 là khổ mẫu trao đổi dữ liệu thư mục được các thư viện Việt "
                        "Nam sử dụng. Khi có thể, hãy <b>nhập biểu ghi có sẵn</b> (từ Thư viện "
                        "tỉnh hoặc tệp MARC của nhà cung cấp) thay vì gõ lại: tiết kiệm thời "
                        "gian và tránh lỗi chính tả.</p>"
                        "<h2>Mã vạch</h2>"
                        "<ol><li>Mỗi bản sách nhận một mã vạch duy nhất trong toàn mạng lưới, "
                        "bắt đầu bằng mã thư viện.</li>"
                        "<li>Dán nhãn ở cùng một vị trí trên mọi cuốn (ví dụ: mặt sau, góc trên "
                        "bên trái) để quét nhanh.</li>"
                        "<li>Quét thử ngay sau khi dán để chắc chắn nhãn đọc được.</li></ol>"
                    ),
                    quiz(
                        "Kiểm tra bài 2",
                        [
                            (
                                "Cách nhanh và ít lỗi nhất để có biểu ghi cho một cuốn sách "
                                "phổ biến là gì?",
                                [
                                    "Gõ lại toàn bộ thông tin",
                                    "Nhập biểu ghi MARC có sẵn rồi kiểm tra",
                                    "Chỉ ghi nhan đề",
                                ],
                                [1],
                                "Dùng lại biểu ghi có sẵn giúp tiết kiệm thời gian và thống "
                                "nhất dữ liệu trong mạng lưới.",
                            ),
                            (
                                "Mã vạch của bản sách phải như thế nào?",
                                [
                                    "Duy nhất trong toàn mạng lưới",
                                    "Giống nhau cho mọi cuốn cùng tên",
                                    "Có thể dùng lại khi sách bị thanh lý",
                                ],
                                [0],
                                "Mã vạch xác định đúng một cuốn sách trong cả mạng lưới.",
                            ),
                        ],
                    ),
                ],
            },
            {
                "slug": "luu-thong-tren-he-thong",
                "title": "Cho mượn, nhận trả và gia hạn",
                "intro": "Các thao tác hằng ngày tại quầy thư viện.",
                "minutes": 35,
                "body": [
                    text(
                        "<h2>Quy trình tại quầy</h2>"
                        "<ol><li><b>Cho mượn</b>: quét thẻ bạn đọc, rồi quét mã vạch từng "
                        "cuốn. Hệ thống tự tính hạn trả theo quy định.</li>"
                        "<li><b>Nhận trả</b>: chỉ cần quét mã vạch cuốn sách. Nếu có bạn đọc "
                        "đang đặt giữ, hệ thống báo để đưa sách lên giá chờ.</li>"
                        "<li><b>Gia hạn</b>: được phép khi chưa quá số lần gia hạn và không "
                        "có ai đặt giữ cuốn sách đó.</li></ol>"
                        "<p>Quét lại một mã đã xử lý không tạo giao dịch thứ hai, nên bạn "
                        "không cần lo khi máy quét đọc hai lần.</p>"
                    ),
                    quiz(
                        "Kiểm tra bài 3",
                        [
                            (
                                "Khi nhận trả sách, cần quét gì?",
                                ["Thẻ bạn đọc và mã vạch sách", "Chỉ mã vạch sách", "Chỉ thẻ"],
                                [1],
                                "Hệ thống biết ai đang mượn cuốn sách từ mã vạch của nó.",
                            ),
                            (
                                "Khi nào không được gia hạn?",
                                [
                                    "Đã hết số lần gia hạn",
                                    "Có bạn đọc khác đặt giữ cuốn sách",
                                    "Sách còn hạn 3 ngày",
                                ],
                                [0, 1],
                                "Gia hạn bị từ chối khi hết lượt hoặc có người đang chờ sách.",
                            ),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        "slug": "day-hoc-voi-tai-nguyen-so",
        "title": "Dạy học với tài nguyên số và H5P",
        "audience": "teachers",
        "level": "intermediate",
        "estimated_minutes": 60,
        "summary": (
            "Dành cho giáo viên: tìm tài nguyên số đáng tin cậy trong thư viện và dùng bài "
            "tập tương tác H5P để học sinh tự luyện tập."
        ),
        "outcomes": (
            "Đánh giá được độ tin cậy của một nguồn tài liệu trên mạng\n"
            "Giao cho lớp một bài học có bài tập tương tác và theo dõi kết quả"
        ),
        "lessons": [
            {
                "slug": "tim-va-danh-gia-tai-nguyen-so",
                "title": "Tìm và đánh giá tài nguyên số",
                "intro": "Tra cứu mục lục chung của mạng lưới và kiểm tra nguồn tin.",
                "minutes": 25,
                "body": [
                    text(
                        "<h2>Bắt đầu từ mục lục của thư viện</h2>"
                        "<p>Mục lục chung cho phép tìm sách ở mọi thư viện trong mạng lưới, "
                        "gõ có dấu hay không dấu đều được. Sách ở thư viện khác có thể mượn "
                        "liên thư viện.</p>"
                        "<h2>Năm câu hỏi để đánh giá một nguồn trên mạng</h2>"
                        "<ul><li>Ai là tác giả, cơ quan nào chịu trách nhiệm?</li>"
                        "<li>Thông tin được cập nhật khi nào?</li>"
                        "<li>Có dẫn nguồn để kiểm chứng không?</li>"
                        "<li>Mục đích là cung cấp thông tin hay quảng cáo?</li>"
                        "<li>Các nguồn khác có nói giống vậy không?</li></ul>"
                    ),
                    quiz(
                        "Kiểm tra bài 1",
                        [
                            (
                                "Dấu hiệu nào cho thấy một trang web đáng tin cậy hơn?",
                                [
                                    "Có tên tác giả và cơ quan chịu trách nhiệm",
                                    "Có nhiều quảng cáo",
                                    "Có dẫn nguồn để kiểm chứng",
                                    "Tiêu đề giật gân",
                                ],
                                [0, 2],
                                "Tác giả rõ ràng và nguồn dẫn kiểm chứng được là dấu hiệu tốt.",
                            ),
                        ],
                        pass_mark=100,
                    ),
                ],
            },
            {
                "slug": H5P_LESSON_SLUG,
                "title": "Bài tập tương tác với H5P",
                "intro": "H5P là định dạng mở cho bài tập tương tác chạy ngay trên trang web.",
                "minutes": 35,
                "body": [
                    text(
                        "<h2>H5P trong bài học</h2>"
                        "<p>H5P cho phép tạo câu hỏi trắc nghiệm, kéo thả, điền từ... Khi học "
                        "sinh làm bài, kết quả được gửi về hệ thống dưới dạng câu lệnh xAPI "
                        "và cập nhật tiến độ của từng em.</p>"
                        "<p>Giáo viên không cần lập trình: tải tệp <b>.h5p</b> lên khu vực quản "
                        "trị rồi chèn vào bài học như một khối nội dung.</p>"
                    ),
                    quiz(
                        "Kiểm tra bài 2",
                        [
                            (
                                "Kết quả làm bài H5P của học sinh được ghi nhận như thế nào?",
                                [
                                    "Giáo viên chép tay",
                                    "Trình phát gửi câu lệnh xAPI về hệ thống",
                                    "Không được ghi nhận",
                                ],
                                [1],
                                "Mỗi lần trả lời, trình phát H5P gửi một câu lệnh xAPI.",
                            ),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        "slug": "em-lam-quen-voi-thu-vien-so",
        "title": "Em làm quen với thư viện số",
        "audience": "students",
        "level": "beginner",
        "estimated_minutes": 40,
        "summary": "Học sinh biết cách tự tìm sách và dùng Internet an toàn, văn minh.",
        "outcomes": (
            "Tự tìm một cuốn sách trong mục lục trực tuyến\n"
            "Biết giữ an toàn thông tin cá nhân khi lên mạng"
        ),
        "lessons": [
            {
                "slug": "tra-cuu-sach-truc-tuyen",
                "title": "Tra cứu sách trong mục lục trực tuyến",
                "intro": "Tìm sách theo nhan đề, tác giả hoặc chủ đề.",
                "minutes": 20,
                "body": [
                    text(
                        "<h2>Ba cách tìm sách</h2>"
                        "<ol><li>Gõ <b>nhan đề</b> hoặc vài từ trong nhan đề, ví dụ: "
                        "<i>dế mèn</i>.</li>"
                        "<li>Gõ <b>tên tác giả</b>, ví dụ: <i>Tô Hoài</i>.</li>"
                        "<li>Chọn một <b>chủ đề</b>, ví dụ: khoa học, lịch sử.</li></ol>"
                        "<p>Không cần gõ dấu: tìm <i>de men</i> vẫn ra <i>Dế Mèn phiêu lưu "
                        "ký</i>. Kết quả cho biết sách đang ở thư viện nào và còn trên giá "
                        "hay không.</p>"
                    ),
                    quiz(
                        "Thử tài tra cứu",
                        [
                            (
                                "Em muốn tìm truyện “Dế Mèn phiêu lưu ký” nhưng máy không gõ "
                                "được dấu. Em làm gì?",
                                [
                                    "Gõ “de men” vào ô tìm kiếm",
                                    "Không tìm được",
                                    "Phải nhờ cô thủ thư",
                                ],
                                [0],
                                "Mục lục tìm được cả khi gõ không dấu.",
                            ),
                            (
                                "Kết quả tra cứu cho em biết những gì?",
                                [
                                    "Sách ở thư viện nào",
                                    "Sách còn trên giá hay đang được mượn",
                                    "Ai đang mượn sách",
                                ],
                                [0, 1],
                                "Thông tin người mượn được giữ kín.",
                            ),
                        ],
                        pass_mark=50,
                    ),
                ],
            },
            {
                "slug": "an-toan-tren-mang",
                "title": "An toàn và văn minh trên mạng",
                "intro": "Bảo vệ thông tin cá nhân và tôn trọng người khác khi lên mạng.",
                "minutes": 20,
                "body": [
                    text(
                        "<h2>Giữ an toàn cho em</h2>"
                        "<ul><li>Không chia sẻ mật khẩu, kể cả với bạn thân.</li>"
                        "<li>Không đăng địa chỉ nhà, số điện thoại, tên trường lên mạng xã "
                        "hội.</li>"
                        "<li>Đăng xuất khi dùng máy tính chung ở thư viện.</li>"
                        "<li>Gặp điều gì khiến em lo lắng, hãy kể với thầy cô hoặc bố mẹ."
                        "</li></ul>"
                    ),
                    quiz(
                        "Kiểm tra bài 2",
                        [
                            (
                                "Em vừa dùng xong máy tính ở thư viện. Em nên làm gì?",
                                ["Đăng xuất tài khoản", "Để nguyên cho bạn sau dùng tiếp"],
                                [0],
                                "Đăng xuất để người sau không dùng được tài khoản của em.",
                            ),
                            (
                                "Thông tin nào em không nên đăng công khai?",
                                ["Địa chỉ nhà", "Số điện thoại", "Tên cuốn sách em thích"],
                                [0, 1],
                                "Địa chỉ và số điện thoại là thông tin cá nhân cần giữ kín.",
                            ),
                        ],
                    ),
                ],
            },
        ],
    },
]

GUIDES = [
    {
        "slug": "dang-ky-the-ban-doc-truc-tuyen",
        "title": "Đăng ký thẻ bạn đọc trực tuyến",
        "summary": "Các bước đăng ký thẻ thư viện qua mạng và nhận thẻ tại thư viện.",
        "audience": "",
        "steps": [
            (
                "Mở trang đăng ký",
                "<p>Trên trang chủ, chọn <b>Đăng ký thẻ bạn đọc</b>. Chọn thư viện gần em "
                "nhất (thư viện trường hoặc thư viện huyện).</p>",
            ),
            (
                "Điền thông tin",
                "<p>Nhập họ tên, ngày sinh, số điện thoại. Học sinh dưới 16 tuổi cần thông tin "
                "liên hệ của cha mẹ hoặc người giám hộ.</p>",
            ),
            (
                "Chờ thư viện duyệt",
                "<p>Cán bộ thư viện kiểm tra và duyệt yêu cầu, thường trong 1–2 ngày làm việc. "
                "Em nhận được thông báo khi thẻ sẵn sàng.</p>",
            ),
            (
                "Nhận thẻ",
                "<p>Mang giấy tờ tùy thân (hoặc thẻ học sinh) đến quầy để nhận thẻ có mã "
                "vạch. Từ đó em có thể mượn sách ở mọi thư viện trong mạng lưới.</p>",
            ),
        ],
    },
    {
        "slug": "quet-ma-vach-tai-quay",
        "title": "Quét mã vạch tại quầy mượn trả",
        "summary": "Dùng máy quét mã vạch USB để cho mượn và nhận trả sách nhanh, không nhầm.",
        "audience": "librarians",
        "steps": [
            (
                "Cắm và thử máy quét",
                "<p>Cắm máy quét vào cổng USB; máy hoạt động như một bàn phím, không cần cài "
                "đặt. Mở Notepad và quét thử một nhãn: các chữ số phải hiện ra rồi tự xuống "
                "dòng.</p>",
            ),
            (
                "Đặt con trỏ vào ô mã vạch",
                "<p>Trên màn hình mượn trả, bấm vào ô <b>Mã vạch</b>. Ô này luôn được chọn "
                "sẵn sau mỗi lần quét.</p>",
            ),
            (
                "Quét thẻ rồi quét sách",
                "<p>Khi cho mượn: quét thẻ bạn đọc trước, sau đó quét lần lượt từng cuốn. Khi "
                "nhận trả: chỉ quét sách.</p>",
            ),
            (
                "Khi nhãn không đọc được",
                "<p>Gõ tay các chữ số in dưới mã vạch rồi nhấn Enter. Ghi lại cuốn sách để "
                "in và dán nhãn mới.</p>",
            ),
        ],
    },
]


def _write(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _child(parent, model, slug):
    return model.objects.child_of(parent).filter(slug=slug).first()


def _home():
    return HomePage.objects.first()


@transaction.atomic
def load(stdout=None, h5p_dir=None) -> None:
    home = _home()
    if home is None:
        _write(stdout, "Training demo: no home page, nothing created.")
        return
    index = _child(home, CourseIndexPage, "khoa-hoc")
    if index is None:
        index = home.add_child(
            instance=CourseIndexPage(
                title="Khoá học",
                slug="khoa-hoc",
                intro="<p>Khoá học kỹ năng số cho cán bộ thư viện, giáo viên và học sinh.</p>",
            )
        )
    created = 0
    for spec in COURSES:
        course = _child(index, CoursePage, spec["slug"])
        if course is None:
            course = index.add_child(
                instance=CoursePage(
                    title=spec["title"],
                    slug=spec["slug"],
                    audience=spec["audience"],
                    level=spec["level"],
                    estimated_minutes=spec["estimated_minutes"],
                    summary=spec["summary"],
                    outcomes=spec["outcomes"],
                )
            )
            created += 1
        for lesson in spec["lessons"]:
            if _child(course, LessonPage, lesson["slug"]) is None:
                course.add_child(
                    instance=LessonPage(
                        title=lesson["title"],
                        slug=lesson["slug"],
                        intro=lesson["intro"],
                        estimated_minutes=lesson["minutes"],
                        body=json.dumps(lesson["body"]),
                    )
                )
                created += 1

    guides = _child(home, GuideIndexPage, "huong-dan")
    if guides is None:
        guides = home.add_child(
            instance=GuideIndexPage(
                title="Hướng dẫn",
                slug="huong-dan",
                intro="<p>Hướng dẫn từng bước cho bạn đọc và cán bộ thư viện.</p>",
            )
        )
    for spec in GUIDES:
        if _child(guides, GuidePage, spec["slug"]) is None:
            body = [
                {"type": "step", "id": _id(), "value": {"title": title, "text": html}}
                for title, html in spec["steps"]
            ]
            guides.add_child(
                instance=GuidePage(
                    title=spec["title"],
                    slug=spec["slug"],
                    summary=spec["summary"],
                    audience=spec["audience"],
                    body=json.dumps(body),
                )
            )
            created += 1
    _write(stdout, f"Training demo: {created} pages created.")
    if h5p_dir:
        load_h5p(Path(h5p_dir), stdout=stdout)


def _import_h5p_file(path: Path) -> H5PPackage:
    """Import one .h5p file with the H5P module (validation and storage live there), as the
    operator running load_demo: it may install the libraries; the network owns the package."""
    return install_package(validate_package(path), by=OPERATOR, title=path.stem)


def load_h5p(h5p_dir: Path, stdout=None) -> list[H5PPackage]:
    """Import the .h5p files of a folder and add them, optional, to the H5P demo lesson."""
    files = sorted(h5p_dir.glob("*.h5p")) if h5p_dir.is_dir() else []
    if not files:
        _write(stdout, f"Training demo: no .h5p files in {h5p_dir}.")
        return []
    packages = []
    for path in files:
        package = H5PPackage.objects.filter(title=path.stem).first()
        if package is None:
            try:
                package = _import_h5p_file(path)
            except Exception as exc:  # noqa: BLE001 - one bad package must not stop the demo
                _write(stdout, f"Training demo: {path.name} was not imported: {exc}")
                continue
        packages.append(package)
    lesson = LessonPage.objects.filter(slug=H5P_LESSON_SLUG).first()
    if lesson is not None and packages:
        present = {
            (item.get("value") or {}).get("package")
            for item in lesson.body.raw_data
            if item.get("type") == "h5p"
        }
        raw = list(lesson.body.raw_data)
        for package in packages:
            if package.pk not in present:
                raw.append(
                    {
                        "type": "h5p",
                        "id": _id(),
                        "value": {"package": package.pk, "required": False, "pass_mark": None},
                    }
                )
        lesson.body = json.dumps(raw)
        lesson.save_revision().publish()
    _write(stdout, f"Training demo: {len(packages)} H5P packages in the demo lesson.")
    return packages
