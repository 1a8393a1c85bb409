"""Books for the digital collection's tests: the real EPUBs of tests/fixtures/ebooks/, hostile
copies built from them, and PDFs written here (reportlab, pypdf) each carrying the one
feature a test is about."""

import io
import stat
import zipfile

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.pdfgen import canvas

from libraries.digital.demo import guide_pdf
from tests.fixture_files import FIXTURES

EBOOKS = FIXTURES / "ebooks"
CHILDREN = EBOOKS / "childrens-literature.epub"
MOBY = EBOOKS / "moby-dick.epub"
ARABIC = EBOOKS / "regime-anticancer-arabic.epub"
QUIZ = EBOOKS / "quiz-bindings.epub"


def data(path) -> bytes:
    return path.read_bytes()


def entries(path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def rebuild(path=CHILDREN, *, drop=(), replace=None, extra=(), first=None) -> bytes:
    """A copy of a real EPUB: entries dropped or replaced, extra (name, bytes[, ZipInfo])."""
    replace = replace or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        rows = entries(path)
        if first is not None:
            out.writestr(first[0], first[1])
        for info, content in rows:
            if info.filename in drop:
                continue
            compress = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            out.writestr(info.filename, replace.get(info.filename, content), compress_type=compress)
        for row in extra:
            name, content = row[0], row[1]
            if len(row) > 2:
                out.writestr(row[2], content)
            else:
                out.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def package_path(path=CHILDREN) -> str:
    container = {i.filename: c for i, c in entries(path)}["META-INF/container.xml"]
    return container.decode().split('full-path="')[1].split('"')[0]


def traversal_epub() -> bytes:
    return rebuild(extra=[("../../etc/cron.d/evil", b"* * * * * root sh")])


def bomb_epub() -> bytes:
    return rebuild(extra=[("OEBPS/padding.xhtml", b"\0" * (20 * 1024 * 1024))])


def symlink_epub() -> bytes:
    info = zipfile.ZipInfo("OEBPS/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return rebuild(extra=[("OEBPS/link", b"/etc/passwd", info)])


def duplicate_epub() -> bytes:
    return rebuild(extra=[("META-INF/CONTAINER.XML", b"<container/>")])


def no_container_epub() -> bytes:
    return rebuild(drop={"META-INF/container.xml"})


def wrong_mimetype_epub() -> bytes:
    return rebuild(replace={"mimetype": b"application/zip"})


def mimetype_not_first_epub() -> bytes:
    return rebuild(first=("README.txt", b"hello"))


def missing_package_epub() -> bytes:
    return rebuild(drop={package_path()})


def entity_bomb_epub() -> bytes:
    opf = package_path()
    original = {i.filename: c for i, c in entries(CHILDREN)}[opf].decode()
    lol = (
        '<?xml version="1.0"?>\n<!DOCTYPE package [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
    )
    body = original.split("?>", 1)[1] if original.startswith("<?xml") else original
    return rebuild(replace={opf: (lol + body).encode()})


def broken_package_epub() -> bytes:
    return rebuild(replace={package_path(): b"<package><metadata>not closed"})


def text_pdf(title="Sổ tay thư viện", lines=("Thư viện số mở cửa cho mọi người.",)) -> bytes:
    return guide_pdf(title, list(lines))


def plain_pdf(text: str = "A plain document about lighthouses.", *, isbn: str = "") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setTitle("Lighthouses")
    page.drawString(72, 720, text)
    if isbn:
        page.drawString(72, 700, f"ISBN {isbn}")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _writer(source: bytes | None = None) -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(source or plain_pdf())))


def _bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    writer = _writer()
    writer.encrypt(user_password="", owner_password="owner-secret")
    return _bytes(writer)


def javascript_open_action_pdf() -> bytes:
    writer = _writer()
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello');"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return _bytes(writer)


def javascript_names_pdf() -> bytes:
    """Document-level JavaScript in the catalog's names tree (what Acrobat runs on opening)."""
    writer = _writer()
    script = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("this.print({bUI:true});"),
        }
    )
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("print"), writer._add_object(script)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )
    return _bytes(writer)


def launch_pdf() -> bytes:
    """A link annotation on the page that launches a program (deep in the page tree)."""
    writer = _writer()
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        }
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(0), FloatObject(0)] * 2),
            NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
            NameObject("/A"): action,
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return _bytes(writer)


def attachment_pdf() -> bytes:
    writer = _writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really a program")
    return _bytes(writer)


def damaged_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"\x00garbage" * 100
