"""Demo catalog: a few hundred Vietnamese school-library records with copies in the demo
libraries. Generated from the lists below with a fixed seed, so every run gives the same
catalog; safe to run twice (records are keyed by their demo control number)."""

from __future__ import annotations

import random

from django.db import transaction

from libraries.catalog.services import next_barcodes
from libraries.models import Item, Library, Record

DEMO_SOURCE = "KBDEMO"
LIBRARY_CODES = ("TVT", "HBT", "DDA", "CGY", "THCSA", "THCSB", "THPTC", "THPTD", "THE", "THF")
TARGET_RECORDS = 320

CLASSICS = [
    ("Dế Mèn phiêu lưu ký", "Tô Hoài", "Kim Đồng", "895.9223", "Truyện thiếu nhi"),
    ("Đất rừng phương Nam", "Đoàn Giỏi", "Kim Đồng", "895.9223", "Truyện thiếu nhi"),
    ("Tắt đèn", "Ngô Tất Tố", "Văn học", "895.9223", "Văn học hiện thực"),
    ("Số đỏ", "Vũ Trọng Phụng", "Văn học", "895.9223", "Văn học hiện thực"),
    ("Truyện Kiều", "Nguyễn Du", "Văn học", "895.9221", "Thơ ca Việt Nam"),
    ("Lão Hạc", "Nam Cao", "Văn học", "895.9223", "Truyện ngắn"),
    ("Vợ nhặt", "Kim Lân", "Văn học", "895.9223", "Truyện ngắn"),
    ("Chiếc lược ngà", "Nguyễn Quang Sáng", "Kim Đồng", "895.9223", "Truyện ngắn"),
    ("Quê nội", "Võ Quảng", "Kim Đồng", "895.9223", "Truyện thiếu nhi"),
    ("Tôi thấy hoa vàng trên cỏ xanh", "Nguyễn Nhật Ánh", "Trẻ", "895.9223", "Tuổi học trò"),
    ("Cho tôi xin một vé đi tuổi thơ", "Nguyễn Nhật Ánh", "Trẻ", "895.9223", "Tuổi học trò"),
    ("Mắt biếc", "Nguyễn Nhật Ánh", "Trẻ", "895.9223", "Tuổi học trò"),
    ("Kính vạn hoa", "Nguyễn Nhật Ánh", "Kim Đồng", "895.9223", "Tuổi học trò"),
    ("Nhật ký Đặng Thùy Trâm", "Đặng Thùy Trâm", "Hội Nhà văn", "895.9228", "Nhật ký"),
    ("Đường về quê hương", "Nguyễn Văn Đức", "Kim Đồng", "895.9223", "Quê hương"),
    ("Góc sân và khoảng trời", "Trần Đăng Khoa", "Kim Đồng", "895.9221", "Thơ thiếu nhi"),
    ("Những ngôi sao xa xôi", "Lê Minh Khuê", "Văn học", "895.9223", "Truyện ngắn"),
    ("Bỉ vỏ", "Nguyên Hồng", "Văn học", "895.9223", "Văn học hiện thực"),
    ("Hoàng tử bé", "Saint-Exupéry, Antoine de", "Kim Đồng", "843", "Văn học Pháp"),
    ("Những tấm lòng cao cả", "De Amicis, Edmondo", "Văn học", "853", "Văn học Ý"),
    ("Không gia đình", "Malot, Hector", "Kim Đồng", "843", "Văn học Pháp"),
    ("Tuổi thơ dữ dội", "Phùng Quán", "Kim Đồng", "895.9223", "Chiến tranh"),
    ("Đội thiếu niên du kích Đình Bảng", "Xuân Sách", "Kim Đồng", "895.9223", "Chiến tranh"),
    ("Lịch sử Việt Nam", "Phan Huy Lê", "Giáo dục Việt Nam", "959.7", "Lịch sử Việt Nam"),
    ("Việt Nam sử lược", "Trần Trọng Kim", "Văn học", "959.7", "Lịch sử Việt Nam"),
]

SCHOOL_SUBJECTS = [
    ("Toán", "510", "Toán học"),
    ("Tiếng Việt", "372.6", "Tiếng Việt"),
    ("Ngữ văn", "807", "Ngữ văn"),
    ("Lịch sử và Địa lí", "959.7", "Lịch sử Việt Nam"),
    ("Khoa học tự nhiên", "500", "Khoa học tự nhiên"),
    ("Tin học", "004", "Tin học"),
    ("Công nghệ", "600", "Công nghệ"),
    ("Giáo dục công dân", "170", "Giáo dục công dân"),
    ("Tiếng Anh", "428", "Tiếng Anh"),
    ("Âm nhạc", "780", "Âm nhạc"),
    ("Mĩ thuật", "741", "Mĩ thuật"),
]
SERIES = ["Kết nối tri thức với cuộc sống", "Chân trời sáng tạo", "Cánh Diều"]

TOPICS = [
    ("Kỹ năng sống", "158", "Kỹ năng sống"),
    ("Em yêu khoa học", "500", "Khoa học thường thức"),
    ("Luyện viết chữ đẹp", "372.6", "Tập viết"),
    ("Tìm hiểu lịch sử Việt Nam qua tranh", "959.7", "Lịch sử Việt Nam"),
    ("Danh nhân đất Việt", "920", "Danh nhân"),
    ("Truyện cổ tích Việt Nam", "398.2", "Truyện cổ tích"),
    ("Ca dao tục ngữ Việt Nam", "398.9", "Văn học dân gian"),
    ("Bảo vệ môi trường", "363.7", "Môi trường"),
    ("Địa lí các tỉnh Việt Nam", "915.97", "Địa lí Việt Nam"),
    ("Thế giới động vật", "590", "Động vật"),
    ("Cây xanh quanh em", "580", "Thực vật"),
    ("Sổ tay an toàn giao thông", "363.12", "An toàn giao thông"),
    ("Lập trình Scratch", "005.1", "Tin học"),
    ("Nấu ăn gia đình", "641.5", "Nấu ăn"),
    ("Chuyện kể về Bác Hồ", "959.704", "Hồ Chí Minh"),
    ("Hỏi đáp về vũ trụ", "520", "Thiên văn học"),
]
AUDIENCES = ["cho học sinh tiểu học", "cho học sinh trung học cơ sở", "cho tuổi mới lớn",
             "dành cho thiếu nhi", "cho bạn đọc nhỏ tuổi"]  # fmt: skip
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Thu", "Xuân"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long",
         "Mai", "Nam", "Nga", "Phúc", "Quyên", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt",
         "Yến", "Đạt"]  # fmt: skip
PUBLISHERS = {
    "Kim Đồng": ("NXB Kim Đồng", "Hà Nội"),
    "Trẻ": ("NXB Trẻ", "TP. Hồ Chí Minh"),
    "Văn học": ("NXB Văn học", "Hà Nội"),
    "Hội Nhà văn": ("NXB Hội Nhà văn", "Hà Nội"),
    "Giáo dục Việt Nam": ("NXB Giáo dục Việt Nam", "Hà Nội"),
    "Đại học Sư phạm": ("NXB Đại học Sư phạm", "Hà Nội"),
    "Phụ nữ": ("NXB Phụ nữ Việt Nam", "Hà Nội"),
}
# Item statuses the demo may set: loans and holds belong to circulation, not to this demo.
DEMO_STATUSES = [Item.Status.AVAILABLE] * 12 + [
    Item.Status.IN_PROCESS,
    Item.Status.DAMAGED,
    Item.Status.MISSING,
]


def isbn13(rng: random.Random) -> str:
    body = "978604" + "".join(str(rng.randrange(10)) for _ in range(6))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _cutter(author: str) -> str:
    return (author.split(",")[0].split()[-1] if "," not in author else author.split(",")[0])[:1]


def demo_records(count: int = TARGET_RECORDS, seed: int = 2026) -> list[dict]:
    """The demo records as field dicts (the same list for the same seed)."""
    rng = random.Random(seed)
    out: list[dict] = []

    def add(title, authors, publisher_key, ddc, subjects, *, year=None, item_type="book",
            subtitle="", summary=""):  # fmt: skip
        publisher, place = PUBLISHERS[publisher_key]
        n = len(out) + 1
        out.append(
            {
                "title": title,
                "subtitle": subtitle,
                "authors": authors,
                "publisher": publisher,
                "place": place,
                "year": year or rng.randint(1995, 2025),
                "isbn": isbn13(rng),
                "language": "vie",
                "subjects": "\n".join(subjects),
                "call_number": f"{ddc} {_cutter(authors).upper()}",
                "summary": summary,
                "control_number": f"KB{n:05d}",
                "item_type": item_type,
            }
        )

    for title, author, publisher, ddc, subject in CLASSICS:
        add(title, author, publisher, ddc, [subject, "Văn học"], summary=f"{title} – {author}.")
    for grade in range(1, 13):
        for name, ddc, subject in SCHOOL_SUBJECTS:
            if (grade <= 5 and name in ("Ngữ văn", "Khoa học tự nhiên", "Giáo dục công dân")) or (
                grade > 5 and name == "Tiếng Việt"
            ):
                continue
            if rng.random() < 0.45:
                continue
            series = rng.choice(SERIES)
            add(f"{name} {grade}", f"{person(rng)}; {person(rng)}", "Giáo dục Việt Nam", ddc,
                [subject, f"Sách giáo khoa -- Lớp {grade}"], year=rng.randint(2020, 2025),
                item_type="textbook", subtitle=series)  # fmt: skip
    while len(out) < count:
        topic, ddc, subject = rng.choice(TOPICS)
        audience = rng.choice(AUDIENCES)
        volume = rng.randint(1, 5)
        publisher = rng.choice(["Kim Đồng", "Trẻ", "Giáo dục Việt Nam", "Đại học Sư phạm",
                                "Phụ nữ"])  # fmt: skip
        add(f"{topic} {audience}", person(rng), publisher, ddc, [subject, "Thiếu nhi"],
            subtitle=f"Tập {volume}")  # fmt: skip
    return out[:count]


@transaction.atomic
def load(stdout=None) -> None:
    """Create the demo records and spread copies over the demo libraries (idempotent)."""
    libraries = list(Library.objects.filter(code__in=LIBRARY_CODES).order_by("code"))
    rows = demo_records()
    existing = {
        r.control_number: r
        for r in Record.objects.filter(control_number_source=DEMO_SOURCE).only(
            "pk", "control_number", "call_number"
        )
    }
    source = next((lib for lib in libraries if lib.code == "TVT"), None)
    new = []
    for row in rows:
        if row["control_number"] in existing:
            continue
        fields = {k: v for k, v in row.items() if k != "item_type"}
        record = Record(**fields, control_number_source=DEMO_SOURCE, source_library=source)
        record.save()  # save() fills the search text; a few hundred rows
        existing[record.control_number] = record
        new.append(record)
    created_items = 0
    if libraries:
        rng = random.Random(4242)
        held = set(
            Item.objects.filter(
                record__control_number_source=DEMO_SOURCE, library__in=libraries
            ).values_list("record__control_number", "library_id")
        )
        plan: dict[Library, list[tuple[Record, str]]] = {}
        for row in rows:
            record = existing[row["control_number"]]
            for library in rng.sample(libraries, k=min(len(libraries), rng.randint(1, 4))):
                copies = rng.randint(1, 3)
                if (record.control_number, library.pk) in held:
                    continue
                plan.setdefault(library, []).extend([(record, row["item_type"])] * copies)
        items = []
        for library, wanted in plan.items():
            for (record, item_type), barcode in zip(
                wanted, next_barcodes(library, len(wanted)), strict=True
            ):
                items.append(
                    Item(
                        record=record,
                        library=library,
                        location=library,
                        barcode=barcode,
                        call_number=record.call_number,
                        item_type=item_type,
                        status=rng.choice(DEMO_STATUSES),
                        price=rng.choice([25000, 32000, 45000, 58000, 76000, 120000]),
                    )
                )
        Item.objects.bulk_create(items, batch_size=500)
        created_items = len(items)
    if stdout is not None:
        stdout.write(
            f"Catalog: {len(new)} records and {created_items} items created "
            f"({len(libraries)} demo libraries found).\n"
        )
