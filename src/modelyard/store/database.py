"""Engine, sessions and migrations for SQLite (default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from modelyard.home import create_private_file

__all__ = ["Database", "without_nul"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would pick psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def without_nul(value: Any) -> Any:
    """``value`` with every NUL character in its strings (nested too) replaced by U+FFFD.

    PostgreSQL text cannot hold NUL, and a caller can put one in any name it sends; kept,
    it would turn a lookup into a 500 and a recorded row into a batch that never writes.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_nul(item) for item in value)
    return value


def _strip_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
) -> tuple[str, Any]:
    return statement, without_nul(parameters)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """Owns the engine; hands out sessions that commit on success."""

    def __init__(self, url: str) -> None:
        self.url = _normalise_url(url)
        self.engine: Engine = self._build_engine()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def _build_engine(self) -> Engine:
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[-1].split("?", 1)[0]
            if path and path != ":memory:":
                # SQLite gives its -wal and -shm files the database file's mode.
                create_private_file(Path(path))
            engine = create_engine(self.url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)
        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def serialized(self, lock_key: int) -> Iterator[Connection]:
        """A transaction that holds a write lock from its first statement until it commits.

        Writers that read-then-write (append to a hash chain) take turns through it, even
        from separate processes: PostgreSQL by the advisory lock ``lock_key``, SQLite by
        ``BEGIN IMMEDIATE``, which takes the database's one write lock up front, before the
        transaction's snapshot is read.
        """
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": lock_key}
                )
            try:
                yield connection
                connection.commit()
            except BaseException:
                connection.rollback()
                raise

    @contextmanager
    def serialized_session(self, lock_key: int) -> Iterator[Session]:
        """``serialized`` as an ORM session: what it adds is committed as the lock is let go."""
        with self.serialized(lock_key) as connection:
            session = self._sessions(bind=connection)
            try:
                yield session
                session.flush()
            finally:
                session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
