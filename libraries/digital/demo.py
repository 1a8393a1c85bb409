"""Demo step: the provincial library's first e-books and a Vietnamese PDF guide.

The EPUBs are the real samples of tests/fixtures/ebooks/ (IDPF epub3-samples, see
tests/fixtures/PROVENANCE.md), or of ../shared/fixtures/ebooks/ beside the project: the
children's book and Moby-Dick lent with two licences each, the Arabic book open to members
of the network. The guide is a PDF written here with the project's fonts, open to everyone.
A digital loan rule (21 days, 3 e-books at a time) is added. Idempotent: a file the library
already has is not added again.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from libraries.digital.services import OPERATOR, DigitalError, add_file
from libraries.models import CirculationRule, DigitalFile, Library
from libraries.models.digital import DIGITAL_ITEM_TYPE
from training_site.fonts import register_fonts

OWNER = "TVT"
BOOKS = [
    ("childrens-literature.epub", DigitalFile.Access.LENDING, 2),
    ("moby-dick.epub", DigitalFile.Access.LENDING, 2),
    ("regime-anticancer-arabic.epub", DigitalFile.Access.MEMBERS, 0),
]
GUIDE_TITLE = "Hướng dẫn sử dụng thư viện số"
GUIDE_PARAGRAPHS = [
    "Thư viện số của mạng lưới cho phép bạn đọc ở xa thư viện đọc sách điện tử mọi lúc, "
    "mọi nơi: trên điện thoại, máy tính bảng hay máy tính của trường.",
    "Tìm sách: gõ vài từ vào ô tìm kiếm của mục lục liên hợp. Không cần gõ dấu: "
    "“huong dan” cũng tìm thấy “hướng dẫn”. Với sách mở, mục lục còn tìm cả những từ "
    "bên trong sách và cho thấy một đoạn ngắn quanh từ tìm được.",
    "Mượn sách: sách cho mượn có một số bản quyền (giấy phép) nhất định. Khi còn bản trống, "
    "bấm “Mượn” bằng tài khoản đã gắn với thẻ bạn đọc. Hết hạn mượn, sách tự trả; không có "
    "tiền phạt.",
    "Danh sách chờ: khi mọi bản đều đang được mượn, hãy đăng ký chờ. Khi có bản trống, thư "
    "viện gửi thư điện tử cho bạn và giữ bản đó cho bạn trong 48 giờ.",
    "Đọc ngoại tuyến: sách mở và sách đang mượn có thể được lưu để đọc khi không có mạng; "
    "sách mượn tự xóa khỏi máy khi hết hạn.",
]


def guide_pdf(title: str = GUIDE_TITLE, paragraphs=GUIDE_PARAGRAPHS) -> bytes:
    """A short Vietnamese PDF guide, its text in the project's font (searchable, copyable)."""
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A5, title=title, author="Thư viện tỉnh Sông Hồng", lang="vi"
    )
    heading = ParagraphStyle("heading", fontName=bold, fontSize=16, leading=20, spaceAfter=12)
    body = ParagraphStyle("body", fontName=regular, fontSize=10.5, leading=15, spaceAfter=8)
    story = [Paragraph(title, heading)]
    for text in paragraphs:
        story += [Paragraph(text, body), Spacer(1, 4)]
    document.build(story)
    return buffer.getvalue()


def ebook_folders() -> list[Path]:
    return [
        Path(settings.BASE_DIR) / "tests" / "fixtures" / "ebooks",
        Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "ebooks",
    ]


def _find(name: str) -> Path | None:
    return next((folder / name for folder in ebook_folders() if (folder / name).is_file()), None)


def _add(stream, name: str, library: Library, access_level: str, licences: int, stdout):
    try:
        result = add_file(
            upload=stream,
            name=name,
            library=library,
            by=OPERATOR,
            access_level=access_level,
            licences=licences,
        )
    except DigitalError as error:
        if error.code != "duplicate" and stdout is not None:
            stdout.write(f"Digital demo: {name}: {error.message}")
        return None
    if stdout is not None:
        stdout.write(f"Digital demo: {name} → “{result.record.title}”")
    return result


def load(stdout=None) -> None:
    library = Library.objects.filter(code=OWNER).first()
    if library is None:
        return
    CirculationRule.objects.get_or_create(
        library=None,
        patron_category="",
        item_type=DIGITAL_ITEM_TYPE,
        defaults={"loan_days": 21, "max_loans": 3, "renewals": 0, "holds_allowed": True},
    )
    for name, access_level, licences in BOOKS:
        path = _find(name)
        if path is None:
            if stdout is not None:
                stdout.write(f"Digital demo: {name} not found; skipped.")
            continue
        with path.open("rb") as stream:
            _add(stream, name, library, access_level, licences, stdout)
    if DigitalFile.objects.filter(library=library, record__title=GUIDE_TITLE).exists():
        return  # written anew on each run (its date changes): look for it by title
    _add(
        io.BytesIO(guide_pdf()),
        "huong-dan-thu-vien-so.pdf",
        library,
        DigitalFile.Access.OPEN,
        0,
        stdout,
    )
