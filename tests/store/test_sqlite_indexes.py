"""The SQLite store's indexes: each one declared in indexes.json is partial to its collection (a
write evaluates only its own collection's expressions) and is the one its query uses; a store made
with the older, whole-table indexes gets the new ones when it is opened."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ackflow.store.sqlite import INDEXES, SqliteDocuments, _conditions, _field

DECLARED = [(collection, number, [name for name, _ in index["fields"]])
            for collection, indexes in json.loads(INDEXES.read_text())["collections"].items()
            for number, index in enumerate(indexes) if index.get("only", "sqlite") == "sqlite"]


def plan(db: sqlite3.Connection, collection: str, fields: list[str]) -> str:
    where = [(name, "==", "x") for name in fields[:-1]] + [(fields[-1], "<", 5)]
    clauses, args = _conditions(collection, where)
    sql = (f"SELECT doc FROM docs WHERE {' AND '.join(clauses)} "
           f"ORDER BY {_field(fields[-1])} DESC, id DESC LIMIT ?")
    return " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, (*args, 10)).fetchall())


@pytest.mark.parametrize(("collection", "number", "fields"), DECLARED,
                         ids=[f"{c}_{n}" for c, n, _ in DECLARED])
def test_each_declared_index_is_partial_and_serves_its_query(tmp_path, collection, number, fields):
    store = SqliteDocuments(tmp_path / "store.db")
    db = store._connect()
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (f"{collection}_{number}",)).fetchone()[0]
    assert sql.endswith(f"WHERE collection = '{collection}'")
    found = plan(db, collection, fields)
    assert f"USING INDEX {collection}_{number} " in found and "TEMP B-TREE" not in found, found


def test_a_store_with_the_older_whole_table_indexes_gets_the_partial_ones(tmp_path):
    path = tmp_path / "old.db"
    SqliteDocuments(path).close()
    db = sqlite3.connect(path)
    for collection, number, fields in DECLARED:  # the shape before: on every row of the table
        columns = ", ".join(_field(name) for name in fields)
        db.execute(f"DROP INDEX {collection}_{number}")
        db.execute(f"CREATE INDEX {collection}_{number} ON docs(collection, {columns})")
    db.execute("INSERT INTO docs(collection, id, doc) VALUES ('jobs', 'j1', ?)",
               (json.dumps({"status": "QUEUED", "created_at": 1.0}),))
    db.commit()
    db.close()
    store = SqliteDocuments(path)
    rows = store._connect().execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    partial = {name for name, sql in rows if sql and sql.endswith("'")}
    assert {f"{c}_{n}" for c, n, _ in DECLARED} <= partial
    found = store.query("jobs", [("status", "==", "QUEUED")], "created_at", True, 10)
    assert [d["status"] for d in found] == ["QUEUED"]


def test_a_collection_name_is_never_spliced_into_sql_unchecked():
    with pytest.raises(ValueError):
        _conditions("jobs' OR '1'='1", [])
