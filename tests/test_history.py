"""A brought watch history: Letterboxd, IMDb and plain CSV exports read in watch order and matched to the catalogue."""

from __future__ import annotations

import datetime

import pytest

from chat.history import HistoryError, match_history, read_history
from retrieval.catalog import Item

CATALOG = [
    Item(id="alien-1979", title="Alien", year=1979),
    Item(id="the-thing-1982", title="The Thing", year=1982),
    Item(id="heat-1995", title="Heat", year=1995),
    Item(id="heat-1972", title="Heat", year=1972),
    Item(id="usual-suspects-1995", title="The Usual Suspects", year=1995),
]


def test_letterboxd_ratings_are_ordered_by_date_and_matched(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating\n"
                    "2024-03-02,The Thing,1982,https://boxd.it/a,4.5\n"
                    "2024-01-10,Alien,1979,https://boxd.it/b,5\n"
                    "2024-02-01,Usual Suspects,1995,https://boxd.it/c,1.5\n"
                    "2024-02-05,A Film Nobody Has,2031,https://boxd.it/d,3\n")
    rows = read_history(path)
    assert [r.title for r in rows] == ["Alien", "Usual Suspects", "A Film Nobody Has", "The Thing"]
    assert rows[0].watched == datetime.date(2024, 1, 10) and rows[0].rating == 5.0 and rows[0].line == 3
    found = match_history(rows, CATALOG)
    assert found.item_ids() == ["alien-1979", "usual-suspects-1995", "the-thing-1982"]  # a missing article still matches
    assert found.liked_ids() == ["alien-1979", "the-thing-1982"]
    assert found.disliked_ids() == ["usual-suspects-1995"]
    assert [r.label for r in found.unmatched] == ["A Film Nobody Has (2031)"]


def test_imdb_ratings_out_of_ten_use_the_rated_date_and_the_year_picks_the_film(tmp_path):
    path = tmp_path / "imdb.csv"
    path.write_text("Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres\n"
                    "tt0113277,9,2023-05-01,Heat,https://imdb.com/x,movie,8.3,170,1995,Crime\n"
                    "tt0084787,4,2023-04-01,The Thing,https://imdb.com/y,movie,8.2,109,1983,Horror\n")
    rows = read_history(path)
    assert [(r.title, r.rating) for r in rows] == [("The Thing", 2.0), ("Heat", 4.5)]
    found = match_history(rows, CATALOG)
    assert found.item_ids() == ["the-thing-1982", "heat-1995"]  # one year apart still matches; 1995 is not 1972


def test_a_plain_tsv_without_dates_keeps_file_order_and_an_ambiguous_title_is_unmatched(tmp_path):
    path = tmp_path / "seen.tsv"
    path.write_text("title\trating\nHeat\t\nAlien\t4\n")
    rows = read_history(path)
    assert [r.title for r in rows] == ["Heat", "Alien"] and rows[0].rating is None and rows[0].year is None
    found = match_history(rows, CATALOG)
    assert found.item_ids() == ["alien-1979"]  # two films are called Heat, and the row has no year
    assert [r.title for r in found.unmatched] == ["Heat"]


def test_files_without_titles_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("movie_id,stars\n1,5\n")
    with pytest.raises(HistoryError, match="title column"):
        read_history(path)
    with pytest.raises(HistoryError, match="not found"):
        read_history(tmp_path / "none.csv")
