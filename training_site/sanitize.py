"""The one place where HTML written by users is cleaned. Never call bleach anywhere else."""

import re

import bleach
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "em",
        "h2",
        "h3",
        "h4",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "sub",
        "sup",
        "ul",
        "span",
    }
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "abbr": ["title"], "span": ["lang"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})


def clean_html(html: str | None) -> SafeString:
    """Return user HTML with only harmless tags, attributes and link schemes left."""
    cleaned = bleach.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return mark_safe(cleaned)


class _StylePatterns:
    """A css_sanitizer for bleach: keeps the declarations of a style attribute that match one
    of the given regular expressions (each one whole: ``^color: *#[0-9a-f]{6} *;?$``)."""

    def __init__(self, patterns):
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def sanitize_css(self, style: str) -> str:
        kept = [
            declaration
            for declaration in (part.strip() for part in style.split(";"))
            if declaration and any(p.match(declaration) for p in self.patterns)
        ]
        return "; ".join(kept) + (";" if kept else "")


def clean_html_allowing(
    html: str | None,
    *,
    tags,
    attributes,
    protocols=ALLOWED_PROTOCOLS,
    style_patterns=(),
    strip: bool = True,
) -> str:
    """User HTML reduced to the given tags and attributes (a dict, or a callable
    ``(tag, name, value) -> bool`` as bleach takes it); links keep only `protocols`; a style
    attribute (when allowed) keeps only the declarations matching `style_patterns`.

    Disallowed tags are removed with their markup (their text stays, escaped) when `strip`,
    shown as escaped text otherwise. Comments go. For H5P content, whose allowed tags come
    from each library's semantics.
    """
    return bleach.clean(
        html or "",
        tags=frozenset(tags),
        attributes=attributes,
        protocols=frozenset(protocols),
        strip=strip,
        strip_comments=True,
        css_sanitizer=_StylePatterns(style_patterns),
    )


def clean_text(text: str | None) -> str:
    """Plain text with every tag removed, for places that must hold no markup at all."""
    return bleach.clean(text or "", tags=set(), strip=True)
