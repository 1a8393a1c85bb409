"""The content filter (H5P core's H5PContentValidator rules), field type by field type."""

import json

import pytest

from courses.h5p.semantics import ContentFilter, escape_text, filter_metadata, filter_params
from courses.h5p.validation import validate_package
from tests.courses.h5p.support import all_fixtures

HTML = {"name": "question", "type": "text", "widget": "html", "tags": ["strong", "em", "a"]}
PLAIN = {"name": "label", "type": "text"}


def check(value, semantics, libraries=None):
    libraries = libraries or {}
    return ContentFilter(lambda *key: libraries.get(key)).field(value, semantics)


def test_html_text_keeps_the_tags_its_semantics_allow_and_removes_the_rest():
    text = (
        '<p>Chọn <strong>đúng</strong> <em>nhé</em></p><img src=x onerror="alert(1)">'
        "<script>alert(2)</script><h1>To</h1><iframe src=//evil></iframe>"
    )
    # The script's text stays as harmless text, as in H5P core; a removed block leaves a line.
    assert check(text, HTML) == "<p>Chọn <strong>đúng</strong> <em>nhé</em></p>alert(2)\nTo"


def test_html_text_drops_event_handlers_and_dangerous_links():
    text = (
        '<p onclick="steal()">a</p><a href="javascript:alert(1)">b</a>'
        '<a href="https://thuvien.example/x" target="_blank" onmouseover="x()">c</a>'
    )
    assert check(text, HTML) == (
        '<p>a</p><a>b</a><a href="https://thuvien.example/x" target="_blank">c</a>'
    )


def test_html_text_styles_only_as_the_font_options_allow():
    with_font = {**HTML, "font": {"color": True, "size": True}}
    text = '<span style="color: #ff0000; position: fixed; font-size: 2em">x</span>'
    assert check(text, with_font) == '<span style="color: #ff0000; font-size: 2em;">x</span>'
    # Without font options only text-align is allowed.
    assert check('<p style="color: #ff0000; text-align: center">x</p>', HTML) == (
        '<p style="text-align: center;">x</p>'
    )


def test_companion_tags_follow_h5p_core():
    semantics = {"type": "text", "tags": ["table", "b", "ul"]}
    text = "<table><tr><td><strong>1</strong></td></tr></table><ul><li>a</li></ul>"
    assert check(text, semantics) == (
        "<table><tbody><tr><td><strong>1</strong></td></tr></tbody></table><ul><li>a</li></ul>"
    )


def test_plain_text_is_escaped_and_escaping_twice_changes_nothing():
    once = check('<img src=x onerror=alert(1)> Don&#039;t & "go"', PLAIN)
    assert once == "&lt;img src=x onerror=alert(1)&gt; Don&#039;t &amp; &quot;go&quot;"
    assert check(once, PLAIN) == once
    assert escape_text("a & b &amp; c") == "a &amp; b &amp; c"


def test_text_max_length_regexp_and_non_strings():
    assert check("abcdef", {"type": "text", "maxLength": 3}) == "abc"
    pattern = {"type": "text", "regexp": {"pattern": "^[0-9]+$"}}
    assert check("12", pattern) == "12"
    assert check("12a", pattern) == ""
    assert check({"a": 1}, PLAIN) == ""


def test_numbers_booleans_and_selects():
    number = {"type": "number", "min": 0, "max": 100, "step": 5}
    assert check(42, number) == 40
    assert check(-3, number) == 0
    assert check("javascript:1", number) == 0
    assert check(3.14159, {"type": "number", "decimals": 2}) == 3.14
    assert check("yes", {"type": "boolean", "default": True}) is True
    assert check("yes", {"type": "boolean"}) is False
    assert check(False, {"type": "boolean", "default": True}) is False
    select = {"type": "select", "options": [{"value": "true"}, {"value": "false"}]}
    assert check("false", select) == "false"
    assert check("<b>x</b>", select) == "true"  # not an option: the first one
    free = {"type": "select", "options": []}
    assert check("<b>x</b>", free) == "&lt;b&gt;x&lt;/b&gt;"
    multiple = {**select, "multiple": True}
    assert check(["false", "evil", "true"], multiple) == ["false", "true"]


def test_groups_drop_unknown_keys_and_lists_drop_bad_items():
    group = {"type": "group", "fields": [PLAIN, {"name": "n", "type": "number"}]}
    assert check({"label": "<i>a</i>", "n": 2, "onload": "x"}, group) == {
        "label": "&lt;i&gt;a&lt;/i&gt;",
        "n": 2,
    }
    # A group of one field is stored unwrapped, as H5P's editor writes it.
    assert check("<b>a</b>", {"type": "group", "fields": [PLAIN]}) == "&lt;b&gt;a&lt;/b&gt;"
    items = {"type": "list", "max": 2, "field": {"type": "image"}}
    images = [{"path": "../../../etc/passwd"}, {"path": "images/a.png"}, {"path": "b.png"}]
    assert check(images, items) == [{"path": "images/a.png"}]
    assert check([], items) is None
    assert check("not a list", items) is None


@pytest.mark.parametrize(
    "path",
    ["javascript:alert(1)", "/etc/passwd", "../x.png", "images/../../x.png", "a\\b.png", ""],
)
def test_unsafe_media_paths_drop_the_file(path):
    assert check({"path": path, "mime": "image/png"}, {"type": "image"}) is None


def test_media_keeps_the_keys_h5p_knows():
    image = {
        "path": "images/a.png#tmp",
        "mime": 'image/png"><script>',
        "width": "300",
        "onerror": "alert(1)",
        "copyright": {"license": "CC BY", "author": "<b>An</b>", "evil": 1},
    }
    assert check(image, {"type": "image"}) == {
        "path": "images/a.png",
        "mime": "image/png&quot;&gt;&lt;script&gt;",
        "width": 300,
        "copyright": {"license": "CC BY", "author": "&lt;b&gt;An&lt;/b&gt;"},
    }
    video = [{"path": "https://www.youtube.com/watch?v=x", "mime": "video/YouTube"}]
    assert check(video, {"type": "video"}) == video


def test_sub_content_is_filtered_against_its_own_library():
    image_semantics = [{"name": "alt", "type": "text"}, {"name": "file", "type": "image"}]
    field = {"type": "library", "options": ["H5P.Image 1.1"]}
    value = {
        "library": "H5P.Image 1.1",
        "params": {"alt": "<img src=x onerror=alert(1)>", "file": {"path": "a.png"}, "x": 1},
        "subContentId": "2a5d1b1c-8c8e-4b4e-9a8f-0d1e2f3a4b5c",
        "metadata": {"title": "<script>", "license": "nope"},
        "evil": "<script>",
    }
    assert check(value, field, {("H5P.Image", 1, 1): image_semantics}) == {
        "library": "H5P.Image 1.1",
        "params": {"alt": "&lt;img src=x onerror=alert(1)&gt;", "file": {"path": "a.png"}},
        "subContentId": "2a5d1b1c-8c8e-4b4e-9a8f-0d1e2f3a4b5c",
        "metadata": {"title": "&lt;script&gt;", "license": "U"},
    }
    # A library the field does not offer, or one not available, drops the sub-content.
    assert check({**value, "library": "H5P.Evil 1.0"}, field) is None
    assert check(value, field, {}) is None


def test_a_library_without_semantics_gets_no_parameters():
    assert filter_params({"x": "<b>"}, library="H5P.X 1.0", semantics_of=lambda *k: []) == {}
    assert filter_params({"x": 1}, library="H5P.X 1.0", semantics_of=lambda *k: None) == {}


def test_metadata_is_filtered_against_h5p_metadata_semantics():
    metadata = {
        "title": "Bài <b>1</b>",
        "authors": [{"name": "<i>Lan</i>", "role": "Author"}],
        "yearFrom": "2020",
        "license": "CC BY",
        "onload": "x",
    }
    assert filter_metadata(metadata) == {
        "title": "Bài &lt;b&gt;1&lt;/b&gt;",
        "authors": [{"name": "&lt;i&gt;Lan&lt;/i&gt;", "role": "Author"}],
        "yearFrom": 2020,
        "license": "CC BY",
    }


@pytest.mark.parametrize("path", all_fixtures(), ids=lambda p: p.name.split("__")[0])
def test_content_written_by_h5p_passes_unchanged(path):
    """Real packages (H5P filtered them when they were made) keep every parameter, so
    lessons play as before; only content-only's is emptied here (its library is absent)."""
    validated = validate_package(path)
    libraries = validated.libraries
    packaged = {(lib.ref.machine_name, lib.ref.major, lib.ref.minor): lib for lib in libraries}

    def semantics_of(*key):
        lib = packaged.get(key)
        if lib is None:
            return None
        return json.loads(lib.files["semantics.json"]) if "semantics.json" in lib.files else []

    params = json.loads(validated.content_files["content.json"])
    main = validated.main_library
    filtered = filter_params(
        params, library=f"{main.machine_name} {main.major}.{main.minor}", semantics_of=semantics_of
    )
    expected = {} if path.name.startswith("content-only") else params
    assert filtered == expected
