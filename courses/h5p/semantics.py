"""Filter content parameters against each library's semantics.json, as H5P core's
H5PContentValidator does (h5p-php-library, h5p.classes.php) before any content is played.

Packages arrive with content.json written by anyone: a text field may hold
``<img src=x onerror=…>`` that the library's JavaScript puts into the page. H5P core never
plays parameters as uploaded; it filters them against the semantics of each library, field by
field. We do the same, once, before content.json is stored (storage.install_package), so the
stored file is what the player receives.

The rules, per field type (H5P core's, with the differences noted):

- text: with ``tags`` (the wysiwyg "html" widget) only those tags stay, plus div, span, p, br
  and their companions (table -> tr, td…; b -> strong; i -> em; ul/ol -> li; del/strike -> s),
  with harmless attributes, links limited to ftp/http/https/mailto and ``style`` only when
  each declaration is one the ``font`` options (or tables) allow. Every other tag is removed
  (its text stays, escaped). Without ``tags`` the text is escaped entirely (``<`` becomes
  ``&lt;``; entities already there are kept, so filtering twice changes nothing). Then
  ``maxLength`` and ``regexp`` (text that does not match becomes empty).
- number: not a number -> 0, then min, max, step, decimals.
- boolean: not a boolean -> the field's default when it is one, else false (H5P core leaves
  such a value alone; we do not pass a string where a library expects a boolean).
- select: the value must be one of the options (the first option otherwise, unless the field
  is optional); ``multiple`` keeps the valid ones.
- list: each item against the list's field (at most ``max``); an empty list is dropped.
- group: keys that the semantics do not name are dropped; a group of one field is stored
  unwrapped, as H5P's editor writes it.
- library (sub-content): the library must be one of the field's options and available (in
  the package or installed); its params are filtered against its own semantics, its metadata
  against H5P's metadata semantics; keys other than library, params, subContentId, metadata
  (and the field's extraAttributes) are dropped. Otherwise the sub-content is dropped.
- image, video, audio, file: the path must be a relative path inside the content folder
  (no ``..``, no absolute path, no scheme) or an http(s) URL; otherwise the file is dropped
  (H5P core only rewrites paths to other content folders). Only the keys H5P knows stay.

A library without semantics.json gets no parameters at all (nothing describes them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from training_site.sanitize import clean_html_allowing

# machine name, major, minor -> semantics fields (a list), [] when the library has no
# semantics.json, None when the library is not available at all.
SemanticsLookup = Callable[[str, int, int], list | None]

BASE_TAGS = ("div", "span", "p", "br")
TABLE_TAGS = ("tr", "td", "th", "colgroup", "col", "thead", "tbody", "tfoot", "figure")
TABLE_TAGS += ("figcaption",)
STYLEABLE_TAGS = frozenset(
    {"span", "p", "div", "h1", "h2", "h3", "table", "col", "figure", "td", "th", "li"}
)
LINK_PROTOCOLS = frozenset({"ftp", "http", "https", "mailto"})
# H5P core keeps any attribute but style and on*; we keep a list of harmless ones.
COMMON_ATTRIBUTES = frozenset({"class", "title", "lang", "dir"})
TAG_ATTRIBUTES = {
    "a": {"href", "target", "rel", "name"},
    "abbr": {"title"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "headers", "scope"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
}

_COLOR = r"(#[a-f0-9]{3}[a-f0-9]{3}?|rgba?\([0-9, ]+\)|hsla?\([0-9,.% ]+\))"
_FONT_STYLES = {
    "size": r"^font-size: *[0-9.]+(em|px|%) *;?$",
    "family": r"^font-family: *[-a-z0-9,'&; ]+;?$",
    "color": rf"^color: *{_COLOR} *;?$",
    "background": rf"^background-color: *{_COLOR} *;?$",
    "spacing": r"^letter-spacing: *[0-9.]+(em|px|%) *;?$",
    "height": r"^line-height: *[0-9.]+(em|px|%|) *;?$",
}
_BORDER_STYLE = "(none|solid|dotted|dashed|double|groove|ridge|inset|outset)"
_TABLE_STYLES = (
    rf"^border: *[0-9.]+(em|px|%|) *{_BORDER_STYLE} *{_COLOR} *;?$",
    rf"^border-style: *{_BORDER_STYLE} *;?$",
    r"^border-width: *[0-9.]+(em|px|%|) *;?$",
    rf"^border-color: *{_COLOR} *;?$",
    r"^vertical-align: *(middle|top|bottom);?$",
    r"^padding: *[0-9.]+(em|px|%|) *;?$",
    r"^width: *[0-9.]+(em|px|%|) *;?$",
    r"^height: *[0-9.]+(em|px|%|) *;?$",
    r"^float: *(right|left|none) *;?$",
    r"^border-collapse: *collapse *;?$",
    rf"^background-color: *{_COLOR} *;?$",
)
_ALIGN_STYLE = r"^text-align: *(center|left|right);?$"

# An ampersand that does not start an entity (entities stay: escaping twice changes nothing).
BARE_AMPERSAND_RE = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
SUB_CONTENT_ID_RE = re.compile(
    r"^\{?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\}?$"
)
LIBRARY_STRING_RE = re.compile(r"^([\w.\-]+) (\d+)\.(\d+)$", re.ASCII)
URL_RE = re.compile(r"^https?://", re.IGNORECASE)
SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)
OTHER_CONTENT_RE = re.compile(r"^((\.\./){1,2})(.*content/)?(\d+|editor)/(.+)$")

CC_VERSIONS = ["4.0", "3.0", "2.5", "2.0", "1.0"]


def _options(*values) -> list[dict]:
    return [{"value": value} for value in values]


METADATA_SEMANTICS: list[dict] = [
    {"name": "title", "type": "text"},
    {"name": "a11yTitle", "type": "text", "optional": True},
    {
        "name": "license",
        "type": "select",
        "options": _options(
            "U",
            "CC BY",
            "CC BY-SA",
            "CC BY-ND",
            "CC BY-NC",
            "CC BY-NC-SA",
            "CC BY-NC-ND",
            "CC0 1.0",
            "CC PDM",
            "GNU GPL",
            "PD",
            "ODC PDDL",
            "C",
        ),
    },
    {
        "name": "licenseVersion",
        "type": "select",
        "options": _options(*CC_VERSIONS),
        "optional": True,
    },
    {"name": "yearFrom", "type": "number", "min": -9999, "max": 9999, "optional": True},
    {"name": "yearTo", "type": "number", "min": -9999, "max": 9999, "optional": True},
    {"name": "source", "type": "text", "optional": True},
    {
        "name": "authors",
        "type": "list",
        "field": {
            "name": "author",
            "type": "group",
            "fields": [
                {"name": "name", "type": "text", "optional": True},
                {
                    "name": "role",
                    "type": "select",
                    "options": _options("Author", "Editor", "Licensee", "Originator"),
                },
            ],
        },
    },
    {"name": "licenseExtras", "type": "text", "optional": True},
    {
        "name": "changes",
        "type": "list",
        "field": {
            "name": "change",
            "type": "group",
            "fields": [
                {"name": "date", "type": "text", "optional": True},
                {"name": "author", "type": "text", "optional": True},
                {"name": "log", "type": "text", "optional": True},
            ],
        },
    },
    {"name": "authorComments", "type": "text", "optional": True},
    {"name": "contentType", "type": "text"},
    {"name": "defaultLanguage", "type": "text"},
]

COPYRIGHT_SEMANTICS: dict = {
    "name": "copyright",
    "type": "group",
    "fields": [
        {"name": "title", "type": "text", "optional": True},
        {"name": "author", "type": "text", "optional": True},
        {"name": "year", "type": "text", "optional": True},
        {
            "name": "source",
            "type": "text",
            "optional": True,
            "regexp": {"pattern": "^http[s]?://.+", "modifiers": "i"},
        },
        {
            "name": "license",
            "type": "select",
            "options": _options(
                "U",
                "CC BY",
                "CC BY-SA",
                "CC BY-ND",
                "CC BY-NC",
                "CC BY-NC-SA",
                "CC BY-NC-ND",
                "GNU GPL",
                "PD",
                "C",
            ),
        },
        {"name": "version", "type": "select", "options": []},
    ],
}


def escape_text(value: Any) -> str:
    """PHP's htmlspecialchars(ENT_QUOTES, double_encode=false): entities already there stay."""
    text = value if isinstance(value, str) else _as_text(value)
    text = BARE_AMPERSAND_RE.sub("&amp;", text)
    return (
        text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#039;")
    )


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_library_string(value: str) -> tuple[str, int, int] | None:
    """ "H5P.Image 1.1" -> ("H5P.Image", 1, 1); None for anything else."""
    match = LIBRARY_STRING_RE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3))


def filter_params(params: Any, *, library: str, semantics_of: SemanticsLookup) -> dict:
    """The content parameters of a package whose main library is `library` ("H5P.X 1.2"),
    filtered as H5P core's filterParameters() does. Returns a new dict; never raises."""
    value = ContentFilter(semantics_of).library_value(
        {"library": library, "params": params}, {"options": [library]}
    )
    if value is None:
        return {}
    return value.get("params") or {}


def filter_metadata(metadata: Any) -> dict:
    """H5P content metadata (h5p.json's title, authors, license…) against H5P's semantics."""
    return ContentFilter(lambda *_: None).metadata(metadata)


class ContentFilter:
    """One pass over one content tree; semantics are looked up once per library."""

    def __init__(self, semantics_of: SemanticsLookup):
        self._semantics_of = semantics_of
        self._semantics: dict[tuple[str, int, int], list | None] = {}
        self.validators = {
            "text": self.text,
            "number": self.number,
            "boolean": self.boolean,
            "list": self.list,
            "group": self.group,
            "file": self.file,
            "image": self.image,
            "video": self.video,
            "audio": self.audio,
            "select": self.select,
            "library": self.library_value,
        }

    def semantics(self, key: tuple[str, int, int]) -> list | None:
        if key not in self._semantics:
            found = self._semantics_of(*key)
            if found is not None and not isinstance(found, list):
                found = []
            self._semantics[key] = found
        return self._semantics[key]

    def field(self, value: Any, semantics: Any) -> Any:
        """Filter one value against one field; None means the value is dropped."""
        if not isinstance(semantics, dict):
            return None
        validator = self.validators.get(semantics.get("type"))
        if validator is None:
            return None  # a field type H5P core does not know: its content goes
        return validator(value, semantics)

    # ------------------------------------------------------------------ text

    def text(self, value: Any, semantics: dict) -> str:
        text = value if isinstance(value, str) else ""
        tags = semantics.get("tags")
        if isinstance(tags, list):
            text = self._html(text, [t for t in tags if isinstance(t, str)], semantics)
        else:
            text = escape_text(text)
        max_length = semantics.get("maxLength")
        if isinstance(max_length, int) and not isinstance(max_length, bool) and max_length >= 0:
            text = text[:max_length]
        regexp = semantics.get("regexp")
        if isinstance(regexp, dict) and not (text == "" and semantics.get("optional")):
            text = _match_regexp(text, regexp)
        return text

    def _html(self, text: str, tags: list[str], semantics: dict) -> str:
        allowed = {*BASE_TAGS, *(t.lower() for t in tags)}
        if "table" in allowed:
            allowed.update(TABLE_TAGS)
        if "b" in allowed:
            allowed.add("strong")
        if "i" in allowed:
            allowed.add("em")
        if "ul" in allowed or "ol" in allowed:
            allowed.add("li")
        if "del" in allowed or "strike" in allowed:
            allowed.add("s")

        def attribute_allowed(tag: str, name: str, value: str) -> bool:
            if name == "style":
                return tag in STYLEABLE_TAGS  # its declarations are filtered by pattern
            return name in COMMON_ATTRIBUTES or name in TAG_ATTRIBUTES.get(tag, ())

        return clean_html_allowing(
            text,
            tags=allowed,
            attributes=attribute_allowed,
            protocols=LINK_PROTOCOLS,
            style_patterns=_style_patterns(semantics, allowed),
        )

    # ------------------------------------------------------------------ scalars

    def number(self, value: Any, semantics: dict) -> int | float:
        number = _number(value)
        if number is None:
            number = 0
        low, high = _number(semantics.get("min")), _number(semantics.get("max"))
        if low is not None and number < low:
            number = low
        if high is not None and number > high:
            number = high
        step = _number(semantics.get("step"))
        if step:
            rest = math.fmod(number - (low or 0), step)
            if rest:
                number -= rest
        decimals = _number(semantics.get("decimals"))
        if decimals is not None and decimals >= 0:
            number = round(number, int(decimals))
        if isinstance(number, float) and number.is_integer() and not decimals:
            number = int(number)
        return number

    def boolean(self, value: Any, semantics: dict) -> bool:
        if isinstance(value, bool):
            return value
        default = semantics.get("default")
        return default if isinstance(default, bool) else False

    def select(self, value: Any, semantics: dict) -> Any:
        optional = bool(semantics.get("optional"))
        options: dict[str, Any] = {}
        for option in semantics.get("options") or []:
            if not isinstance(option, dict):
                continue
            if option.get("type") == "optgroup":
                for sub in option.get("options") or []:
                    if isinstance(sub, dict) and "value" in sub:
                        options[_as_text(sub["value"])] = sub["value"]
            elif "value" in option:
                options[_as_text(option["value"])] = option["value"]
        strict = bool(options)

        def one(item: Any) -> Any:
            if isinstance(item, (dict, list)):
                return None
            key = _as_text(item)
            if key in options:
                return options[key]
            if strict and not optional:
                return None
            return escape_text(key)

        if semantics.get("multiple"):
            items = value if isinstance(value, list) else [value]
            return [kept for kept in (one(item) for item in items) if kept is not None]
        if isinstance(value, list):
            value = value[0] if value else None
        kept = one(value)
        if kept is None and strict and not optional:
            return next(iter(options.values()))
        return kept if kept is not None else ""

    # ------------------------------------------------------------------ structures

    def list(self, value: Any, semantics: dict) -> list | None:
        if not isinstance(value, list):
            return None
        maximum = semantics.get("max")
        if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum >= 0:
            value = value[:maximum]
        field = semantics.get("field")
        items = [self.field(item, field) for item in value]
        kept = [item for item in items if item is not None]
        return kept or None

    def group(self, value: Any, semantics: dict, *, flatten: bool = True) -> Any:
        fields = [f for f in semantics.get("fields") or [] if isinstance(f, dict)]
        sub_content = semantics.get("isSubContent") is True
        if len(fields) == 1 and flatten and not sub_content:
            return self.field(value, fields[0])
        if not isinstance(value, dict):
            return None
        by_name = {f.get("name"): f for f in fields if isinstance(f.get("name"), str)}
        kept = {}
        for key, item in value.items():
            if sub_content and key == "subContentId":
                if isinstance(item, str) and SUB_CONTENT_ID_RE.match(item):
                    kept[key] = item
                continue
            if key not in by_name:
                continue
            field = by_name[key]
            if semantics.get("optional"):
                field = {**field, "optional": True}
            filtered = self.field(item, field)
            if filtered is not None:
                kept[key] = filtered
        return kept

    def library_value(self, value: Any, semantics: dict) -> dict | None:
        if not isinstance(value, dict) or not isinstance(value.get("library"), str):
            return None
        names = []
        for option in semantics.get("options") or []:
            name = option.get("name") if isinstance(option, dict) else option
            if isinstance(name, str):
                names.append(name)
        if value["library"] not in names:
            return None
        key = parse_library_string(value["library"])
        fields = self.semantics(key) if key else None
        if fields is None:
            return None  # neither in the package nor installed: nothing could play it
        filtered: dict[str, Any] = {
            "library": value["library"],
            "params": self.group(
                value.get("params") if isinstance(value.get("params"), dict) else {},
                {"type": "group", "fields": fields},
                flatten=False,
            ),
        }
        if "metadata" in value:
            filtered["metadata"] = self.metadata(value["metadata"])
        sub_id = value.get("subContentId")
        if isinstance(sub_id, str) and SUB_CONTENT_ID_RE.match(sub_id):
            filtered["subContentId"] = sub_id
        for extra in semantics.get("extraAttributes") or []:
            if isinstance(extra, str) and extra in value and extra not in filtered:
                filtered[extra] = _plain(value[extra])
        return filtered

    def metadata(self, value: Any) -> dict:
        metadata = dict(value) if isinstance(value, dict) else {}
        metadata.setdefault("license", "U")
        return self.group(metadata, {"type": "group", "fields": METADATA_SEMANTICS}, flatten=False)

    # ------------------------------------------------------------------ files

    def _file_like(self, value: Any, semantics: dict, extra_keys=()) -> dict | None:
        if not isinstance(value, dict) or not isinstance(value.get("path"), str):
            return None
        path = value["path"]
        moved = OTHER_CONTENT_RE.match(path)
        if moved:
            path = moved.group(5)
        path = path.removesuffix("#tmp")
        if not safe_media_path(path):
            return None
        keys = {"path", "mime", "copyright", *extra_keys}
        keys.update(k for k in semantics.get("extraAttributes") or [] if isinstance(k, str))
        kept: dict[str, Any] = {"path": escape_text(path)}
        for key in sorted(keys - {"path"}):
            if key not in value:
                continue
            item = value[key]
            if key in ("width", "height", "bitrate"):
                kept[key] = _int(item)
            elif key in ("mime", "codecs"):
                kept[key] = escape_text(item)
            elif key == "copyright":
                kept[key] = self.group(item, COPYRIGHT_SEMANTICS)
            elif key == "quality":
                if isinstance(item, dict) and "level" in item and "label" in item:
                    kept[key] = {"level": _int(item["level"]), "label": escape_text(item["label"])}
            elif key == "originalImage":
                original = self._file_like(item, {}, ("width", "height"))
                if original is not None:
                    kept[key] = original
            elif key == "metadata" and isinstance(item, dict):
                kept[key] = {
                    k: escape_text(v) if isinstance(v, str) else _plain(v) for k, v in item.items()
                }
            else:
                kept[key] = _plain(item)
        if kept.get("copyright") is None:
            kept.pop("copyright", None)
        return kept

    def file(self, value: Any, semantics: dict) -> dict | None:
        return self._file_like(value, semantics)

    def image(self, value: Any, semantics: dict) -> dict | None:
        return self._file_like(value, semantics, ("width", "height", "originalImage"))

    def video(self, value: Any, semantics: dict) -> list | None:
        if not isinstance(value, list):
            return None
        extra = ("width", "height", "codecs", "quality", "bitrate")
        kept = [self._file_like(item, semantics, extra) for item in value]
        return [item for item in kept if item is not None] or None

    def audio(self, value: Any, semantics: dict) -> list | None:
        if not isinstance(value, list):
            return None
        kept = [self._file_like(item, semantics) for item in value]
        return [item for item in kept if item is not None] or None


def safe_media_path(path: str) -> bool:
    """A relative path inside the content folder, or an http(s) URL (external media)."""
    if not path or "\x00" in path or "\\" in path:
        return False
    if URL_RE.match(path):
        return True
    if path.startswith("/") or SCHEME_RE.match(path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _style_patterns(semantics: dict, allowed_tags: set[str]) -> list[str]:
    patterns = []
    font = semantics.get("font")
    if isinstance(font, dict):
        patterns.extend(p for name, p in _FONT_STYLES.items() if font.get(name))
    if "table" in allowed_tags:
        patterns.extend(_TABLE_STYLES)
    patterns.append(_ALIGN_STYLE)
    return patterns


def _match_regexp(text: str, regexp: dict) -> str:
    pattern = regexp.get("pattern")
    if not isinstance(pattern, str):
        return text
    flags = re.IGNORECASE if "i" in str(regexp.get("modifiers") or "") else 0
    try:
        compiled = re.compile(pattern, flags)
    except re.error:
        return text  # as H5P core: an invalid pattern never removes text
    return text if compiled.search(text) else ""


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() and "." not in value else number
    return None


def _int(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def _plain(value: Any) -> Any:
    """An extra attribute H5P core passes unchecked: strings escaped, structure kept."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
