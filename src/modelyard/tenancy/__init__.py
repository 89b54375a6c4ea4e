"""Tenants, API keys (hashed) and roles."""

from modelyard.tenancy.keys import Principal
from modelyard.tenancy.service import TenancyService

__all__ = ["Principal", "TenancyService"]
