"""Card pictures: the image column is detected (or named), local files are served only from the catalogue's folder,
URLs only over http(s), and every item without a usable image gets an inline placeholder; hostile text stays inert."""

import csv
from html.parser import HTMLParser
from urllib.parse import unquote

from chat.card_images import FILE_ROUTE, CardImages, initials, placeholder_uri
from retrieval.catalog import ColumnMap, Item, read_catalog

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f0a8bd0000000049454e44ae426082"
)


class Tags(HTMLParser):
    def __init__(self, markup: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def write_catalog(folder, header: str, rows: list[list[str]]):
    path = folder / "items.csv"
    with path.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(["id", "title", "genre", header])
        writer.writerows(rows)
    return path


def test_a_poster_column_is_detected_and_kept_out_of_the_text_and_the_filters(tmp_path):
    path = write_catalog(tmp_path, "Poster", [["a", "Alpha", "drama", "a.png"], ["b", "Beta", "drama", "a.png"]])
    reading = read_catalog(path)
    assert [item.extra["image"] for item in reading.items] == ["a.png", "a.png"]
    assert reading.columns.fields["image"] == "Poster"
    assert "image" not in reading.columns.text_fields and "Poster" not in reading.columns.filter_fields


def test_an_image_column_of_another_name_is_named_with_a_field_mapping(tmp_path):
    path = write_catalog(tmp_path, "pic_file", [["a", "Alpha", "drama", "a.png"]])
    assert "image" not in read_catalog(path).items[0].extra
    assert read_catalog(path, ColumnMap(fields=(("image", "pic_file"),))).items[0].extra["image"] == "a.png"


def test_only_picture_files_under_the_catalogue_folder_are_served(tmp_path):
    (tmp_path / "posters").mkdir()
    (tmp_path / "posters" / "a.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("no")
    outside = tmp_path.parent / "outside.png"
    outside.write_bytes(PNG)
    images = CardImages(tmp_path.resolve())
    item = lambda value: Item("x", "X", extra={"image": value})  # noqa: E731
    served = images.source(item("posters/a.png"))
    assert served.startswith(FILE_ROUTE) and unquote(served.removeprefix(FILE_ROUTE)) == str(tmp_path / "posters/a.png")
    refused = [
        "../outside.png",
        str(outside),
        "secret.txt",
        "posters/missing.png",
        "posters",
        "/etc/passwd",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "http:///nohost.png",
        "",
    ]
    assert {value: images.source(item(value)) for value in refused} == dict.fromkeys(refused)
    assert images.allowed_files([item("posters/a.png"), item("../outside.png"), item("secret.txt")]) == [
        str(tmp_path / "posters/a.png")
    ]
    assert CardImages(None).source(item("posters/a.png")) is None  # a catalogue without a file serves nothing


def test_a_url_loads_lazily_without_referrer_and_falls_back_to_the_placeholder(tmp_path):
    hostile = Item("h", "<script>alert(1)</script>' x", extra={"image": "https://img.example/a.jpg?x='><script>"})
    ((tag, attrs),) = Tags(CardImages(tmp_path).img_html(hostile)).found
    assert tag == "img" and attrs["src"] == hostile.extra["image"] and attrs["alt"] == hostile.title
    assert attrs["loading"] == "lazy" and attrs["referrerpolicy"] == "no-referrer"
    assert attrs["data-fallback"] == placeholder_uri(hostile) and "this.dataset.fallback" in attrs["onerror"]


def test_without_an_image_the_placeholder_shows_initials_on_a_genre_colour(tmp_path):
    western = Item("w", "the <b>Good</b>, the Bad", genres=("western",))
    ((tag, attrs),) = Tags(CardImages(tmp_path).img_html(western)).found
    assert attrs["src"] == placeholder_uri(western) and "onerror" not in attrs
    svg = unquote(attrs["src"].removeprefix("data:image/svg+xml;charset=utf-8,"))
    assert ">TB<" in svg and "<b>" not in svg  # initials of "the", "b": markup in the title never reaches the SVG
    assert initials("M*A*S*H") == "MA" and initials("!!!") == "?"
    same_genre = Item("u", "Unforgiven", genres=("western", "drama"))
    other = Item("a", "Alien", genres=("horror",))
    hue = lambda item: unquote(placeholder_uri(item)).split("hsl(")[1].split(",")[0]  # noqa: E731
    assert hue(western) == hue(same_genre) != hue(other)
