"""The picture on an item card: the catalogue's image (a file beside the catalogue, or an http(s) URL), else a
placeholder drawn from the item itself (its initials on a colour chosen from its first genre).

The image column is the catalogue's "image" field (detected from names such as image, image_url, poster, cover or
thumbnail, or named with `build_index --field image=COLUMN`); its value reaches the item as `item.extra["image"]`.
Catalogue text is untrusted: a local image is served only when it is an existing picture file under the catalogue's
folder, a URL only with an http(s) scheme, and every value is escaped where it lands. Nothing here touches the
network; the placeholder is an inline SVG data URI.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from retrieval.catalog import Item

IMAGE_FIELD = "image"
# Picture formats a browser shows in an <img>; no SVG, which could carry script when opened on its own.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif")
FILE_ROUTE = "gradio_api/file="  # Gradio's route for the files it is allowed to serve, relative to the page
_WORD_START = re.compile(r"\b\w", re.UNICODE)


def initials(title: str) -> str:
    """Up to two initials of a title, uppercase; "?" for a title without letters or digits.

    Example: "the thing" -> "TT";  "Alien" -> "A";  "M*A*S*H" -> "MA"
    """
    letters = _WORD_START.findall(title)
    return "".join(letters[:2]).upper() or "?"


def placeholder_uri(item: Item) -> str:
    """An SVG data URI: the item's initials on a colour chosen from its first genre (from its title without one),
    so items of one genre share a colour."""
    key = (item.genres[0] if item.genres else item.title).encode("utf-8")
    hue = int.from_bytes(hashlib.sha256(key).digest()[:2], "big") % 360
    text = html.escape(initials(item.title), quote=True)
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='96' viewBox='0 0 64 96'>"
        f"<rect width='64' height='96' fill='hsl({hue},45%,42%)'/>"
        "<text x='32' y='56' font-family='sans-serif' font-size='24' font-weight='600' fill='white' "
        f"text-anchor='middle'>{text}</text></svg>"
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe="")


def web_url(value: str) -> str | None:
    """The value as an http(s) URL with a host, else None (javascript:, data: and other schemes are refused)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in value) else None


@dataclass(frozen=True)
class CardImages:
    """Where card pictures come from for one catalogue: local files under `folder`, URLs, or the placeholder.

    `folder` is the catalogue file's folder, or None when the catalogue has no file (then no local image is served).
    """

    folder: Path | None

    @classmethod
    def for_source(cls, source: str) -> CardImages:
        return cls(Path(source).resolve().parent if source else None)

    def local_file(self, value: str) -> Path | None:
        """The picture file the value names (relative to the catalogue's folder, or absolute), when it is an existing
        file with a picture suffix inside that folder; else None."""
        if self.folder is None or not value or web_url(value):
            return None
        try:
            path = (self.folder / value).resolve()
        except (OSError, ValueError):
            return None
        inside = path.is_relative_to(self.folder)
        return path if inside and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() else None

    def allowed_files(self, items: Iterable[Item]) -> list[str]:
        """Every local picture the items name: the only files the web server may hand out for the cards."""
        files = {self.local_file(str(item.extra.get(IMAGE_FIELD) or "").strip()) for item in items}
        return sorted(str(path) for path in files if path is not None)

    def source(self, item: Item) -> str | None:
        """The address a card's <img> loads for the item's own image, or None when it has none usable."""
        value = str(item.extra.get(IMAGE_FIELD) or "").strip()
        if not value:
            return None
        if url := web_url(value):
            return url
        path = self.local_file(value)
        return FILE_ROUTE + quote(str(path)) if path else None

    def img_html(self, item: Item) -> str:
        """The card's <img>: the item's image, falling back to the placeholder if it fails to load; or the placeholder.
        Every attribute is escaped; a remote image is fetched lazily and without a referrer."""
        placeholder = html.escape(placeholder_uri(item), quote=True)
        alt = html.escape(item.title, quote=True)
        own = self.source(item)
        if own is None:
            return f"<img class='thumb' src='{placeholder}' alt='' aria-hidden='true'>"
        return (
            f"<img class='thumb' src='{html.escape(own, quote=True)}' alt='{alt}' loading='lazy' "
            f"referrerpolicy='no-referrer' data-fallback='{placeholder}' "
            "onerror=\"this.onerror=null;this.src=this.dataset.fallback;this.alt=''\">"
        )
