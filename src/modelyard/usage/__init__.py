"""Metering: one event per API call, with tokens, latency, status and cost; reports over them."""

from modelyard.usage.recorder import UsageRecord, UsageRecorder, cost_of, training_cost
from modelyard.usage.reports import GROUPS, PROVIDER_GROUPS, Report, UsageReports, report_csv

__all__ = [
    "GROUPS",
    "PROVIDER_GROUPS",
    "Report",
    "UsageRecord",
    "UsageRecorder",
    "UsageReports",
    "cost_of",
    "report_csv",
    "training_cost",
]
