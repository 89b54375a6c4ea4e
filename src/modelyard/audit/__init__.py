"""Append-only, hash-chained audit log of requests and administrative changes."""

from modelyard.audit.chain import ChainHead, ChainReport
from modelyard.audit.log import AuditFilter, AuditRecord
from modelyard.audit.service import AuditService

__all__ = ["AuditFilter", "AuditRecord", "AuditService", "ChainHead", "ChainReport"]
