"""The store migrates and round-trips on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from modelyard.store import ApiKey, Database, ModelRecord, Tenant, UsageEvent
from modelyard.store.tables import Base


def test_migrations_create_every_table(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    inspector = inspect(db.engine)
    assert set(Base.metadata.tables) | {"alembic_version"} == set(inspector.get_table_names())
    # The migrations and the table classes describe the same columns.
    for name, table in Base.metadata.tables.items():
        migrated = {column["name"] for column in inspector.get_columns(name)}
        assert migrated == set(table.columns.keys()), name
    with db.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0006"
    db.dispose()


def test_migrate_twice_is_a_no_op(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    db.migrate()
    db.dispose()


def test_rows_round_trip_with_json_and_timestamps(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    with db.session() as session:
        session.add(Tenant(id="ten_1", name="acme"))
        session.flush()
        session.add(ApiKey(id="k1", tenant_id="ten_1", name="", key_hash="h" * 64, role="member"))
        session.add(
            ModelRecord(
                id="m/1",
                backend="transformers",
                task="chat",
                provider="x",
                source={"path": "/p", "n": [1, 2]},
                tags=["a", "b"],
                description="",
            )
        )
        session.add(
            UsageEvent(
                tenant_id="ten_1",
                key_id="k1",
                model="m/1",
                endpoint="chat",
                prompt_tokens=3,
                completion_tokens=4,
                latency_ms=1.5,
                status_code=200,
                cost=0.1,
            )
        )
    with db.session() as session:
        model = session.get(ModelRecord, "m/1")
        assert model.source == {"path": "/p", "n": [1, 2]} and model.tags == ["a", "b"]
        assert session.get(ApiKey, "k1").created_at.tzinfo is not None
        event = session.scalars(select(UsageEvent)).one()
        assert (event.prompt_tokens, event.completion_tokens, event.status_code) == (3, 4, 200)
    db.dispose()


def test_failed_session_rolls_back(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    try:
        with db.session() as session:
            session.add(Tenant(id="ten_1", name="acme"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.session() as session:
        assert session.scalars(select(Tenant)).all() == []
    db.dispose()
