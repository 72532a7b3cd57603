"""Local-mode Qdrant's SQLite file (crm.ingest.index._quick_commits): WAL with quick commits, and
every point still there after the index is closed and opened again."""
import sqlite3

from crm.ingest.index import Index


def points(n: int, start: int = 0) -> list:
    return [(f"00000000-0000-4000-8000-{k:012d}", [1.0, float(k), 0.5, 0.25], ([k + 1], [1.0]),
             {"type": "communication", "source_table": "communications", "source_id": str(k)})
            for k in range(start, start + n)]


def storage_files(folder) -> list:
    return sorted(folder.rglob("storage.sqlite"))


def journal_mode(path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def test_a_new_collection_commits_in_wal(tmp_path):
    index = Index.open_local(tmp_path)
    index.recreate(4, {"dense_model": "m"})
    index.upsert(points(3))
    files = storage_files(tmp_path)
    assert len(files) == 1
    assert journal_mode(files[0]) == "wal"
    index.close()


def test_points_survive_a_close_and_the_reopened_index_keeps_writing(tmp_path):
    index = Index.open_local(tmp_path)
    index.recreate(4, {"dense_model": "m"})
    index.upsert(points(50))
    index.close()

    index = Index.open_local(tmp_path)
    assert index.count() == 50
    index.upsert(points(5, start=50))
    index.delete([points(1)[0][0]])
    index.close()

    index = Index.open_local(tmp_path)
    assert index.count() == 54
    found = index.dense([1.0, 54.0, 0.5, 0.25], None, 3)
    assert found[0][1]["source_id"] == "54"
    assert journal_mode(storage_files(tmp_path)[0]) == "wal"
    index.close()
