"""The model plaza: catalog records, model cards, built-in models, registration."""

from modelyard.catalog.service import CatalogService, LocalModelIn, RemoteModelIn

__all__ = ["CatalogService", "LocalModelIn", "RemoteModelIn"]
