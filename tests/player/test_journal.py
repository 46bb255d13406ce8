"""The durable proof-of-play and error queue, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from player.journal import Journal


def event(i: int) -> dict[str, object]:
    return {"id": f"e{i}", "asset": "a" * 64, "start": "2022-09-05T02:00:00.000Z"}


def test_rows_survive_a_reopen(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    for i in range(3):
        journal.append("play", event(i))
    journal.close()
    again = Journal(tmp_path / "journal.db")
    assert [e.body["id"] for e in again.peek("play", 10)] == ["e0", "e1", "e2"]
    assert again.count("play") == 3
    again.close()


def test_the_journal_is_in_wal_mode(tmp_path: Path) -> None:
    Journal(tmp_path / "journal.db").close()
    with closing(sqlite3.connect(tmp_path / "journal.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_leave_only_when_acknowledged(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    for i in range(5):
        journal.append("play", event(i))
    batch = journal.peek("play", 3)
    assert [e.body["id"] for e in batch] == ["e0", "e1", "e2"]
    assert journal.count("play") == 5  # peeking deletes nothing: the upload may fail
    journal.delete([e.seq for e in batch])
    assert [e.body["id"] for e in journal.peek("play", 10)] == ["e3", "e4"]
    assert journal.dropped() == 0
    journal.close()


def test_the_queue_is_bounded_and_counts_what_it_drops(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db", max_rows=5)
    for i in range(8):
        journal.append("play", event(i))
    assert [e.body["id"] for e in journal.peek("play", 10)] == ["e3", "e4", "e5", "e6", "e7"]
    assert journal.dropped() == 3
    journal.close()
    again = Journal(tmp_path / "journal.db", max_rows=5)
    assert again.dropped() == 3 and again.count("play") == 5
    again.append("play", event(8))
    assert again.dropped() == 4
    again.close()


def test_refused_rows_count_as_dropped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    for i in range(4):
        journal.append("play", event(i))
    batch = journal.peek("play", 4)
    journal.delete([batch[1].seq, batch[3].seq], dropped=True)
    assert [e.body["id"] for e in journal.peek("play", 10)] == ["e0", "e2"]
    assert journal.dropped() == 2 and journal.count("play") == 2
    journal.close()


def test_errors_are_queued_once_and_bounded_separately(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db", max_rows=100, max_errors=3)
    assert journal.append_error("asset 3fa undecodable")
    assert not journal.append_error("asset 3fa undecodable")
    for i in range(4):
        journal.append_error(f"problem {i}")
    assert [e.body for e in journal.peek("error", 10)] == ["problem 1", "problem 2", "problem 3"]
    assert journal.count("play") == 0
    journal.close()


def test_large_acknowledgements_are_deleted_in_chunks(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    for i in range(1200):
        journal.append("play", event(i))
    journal.delete([e.seq for e in journal.peek("play", 1000)])
    assert journal.count("play") == 200
    assert journal.peek("play", 1)[0].body["id"] == "e1000"
    journal.close()


def test_a_damaged_file_is_set_aside_and_a_new_queue_started(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(b"this is not a database, it is what a power cut left" * 100)
    journal = Journal(path)
    journal.append("play", event(1))
    assert journal.count("play") == 1
    journal.close()
    aside = [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].startswith("journal.db.damaged-")


def full(journal: Journal) -> None:
    """The database may not grow by a page: SQLite answers SQLITE_FULL, as on a full disk."""
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
    journal._db.execute(f"PRAGMA max_page_count = {pages}")


def test_on_a_full_disk_plays_are_lost_and_counted_not_raised(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    journal.append("play", event(0))
    full(journal)
    body = {**event(1), "padding": "x" * 20_000}  # more than the free room in the last page
    assert journal.append("play", body) is False
    assert journal.append("play", body) is False
    assert [e.body["id"] for e in journal.peek("play", 10)] == ["e0"]
    assert journal.count("play") == 1
    assert journal.dropped() == 2
    journal.close()


def test_on_a_full_disk_errors_are_held_in_memory_and_sent(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    journal.append_error("stored before")
    full(journal)
    message = "no room for asset 0ca06daa3208: disk full storing asset 0ca06daa3208 " + "x" * 9000
    assert journal.append_error(message) is True
    assert journal.append_error(message) is False  # held once, like a queued one
    pending = journal.peek("error", 10)
    assert [e.body for e in pending] == ["stored before", message]
    journal.delete([e.seq for e in pending])  # delivered; the delete itself may not write
    assert [e.body for e in journal.peek("error", 10)] in (["stored before"], [])
    assert message not in [e.body for e in journal.peek("error", 10)]
    journal.close()
