"""Tenants, API keys (hashed), roles and scopes."""

from modelyard.tenancy.grants import KeySpec
from modelyard.tenancy.keys import Principal
from modelyard.tenancy.roles import ROLES, SCOPES
from modelyard.tenancy.service import TenancyService

__all__ = ["ROLES", "SCOPES", "KeySpec", "Principal", "TenancyService"]
