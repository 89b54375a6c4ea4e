"""Storage: SQLAlchemy engine/session, tables and Alembic migrations."""

from modelyard.store.database import Database
from modelyard.store.tables import ApiKey, Base, ModelRecord, Tenant, UsageEvent

__all__ = ["ApiKey", "Base", "Database", "ModelRecord", "Tenant", "UsageEvent"]
