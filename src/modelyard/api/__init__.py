"""Management routes (tenants, keys, models, health) and the shared route plumbing."""
