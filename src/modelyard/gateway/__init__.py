"""The OpenAI-compatible gateway: wire protocol, serving logic, routes."""
