"""The one place where HTML written by users is cleaned. Never call bleach anywhere else."""

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


def clean_text(text: str | None) -> str:
    """Plain text with every tag removed, for places that must hold no markup at all."""
    return bleach.clean(text or "", tags=set(), strip=True)
