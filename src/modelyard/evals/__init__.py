"""Evaluation on the user's own data: metrics, the runner, the report."""
