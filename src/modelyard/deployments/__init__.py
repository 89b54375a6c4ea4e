"""Deployments: named endpoints over replicas, and the router in front of them.

The router (balancing, fallback chains, circuit breakers, weighted groups) is pure
asyncio; it knows replicas only as ``TextBackend`` objects, so a local engine, a host
process's client and a remote provider are routed alike.
"""

from modelyard.deployments.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from modelyard.deployments.faults import Fault, classify
from modelyard.deployments.groups import Chain, Group, Member, Route
from modelyard.deployments.replica import Lease, Replica, ReplicaStats, Target
from modelyard.deployments.router import RoutedBackend, Router, RouterPolicy

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "Chain",
    "CircuitBreaker",
    "Fault",
    "Group",
    "Lease",
    "Member",
    "Replica",
    "ReplicaStats",
    "Route",
    "RoutedBackend",
    "Router",
    "RouterPolicy",
    "Target",
    "classify",
]
