"""Metering: one event per API call, with tokens, latency, status and cost."""

from modelyard.usage.recorder import UsageRecord, UsageRecorder, cost_of

__all__ = ["UsageRecord", "UsageRecorder", "cost_of"]
