"""Model hosts: processes that each own one engine (a base model and its adapters).

- ``server``: the host process and its internal HTTP API (``python -m modelyard.hosts.server``)
- ``executor``: where hosts run (:class:`LocalProcessExecutor` now; Ray next)
- ``supervisor``: start, health-check, restart with backoff, drain and stop
- ``client``: :class:`HostClient`, a host seen as a ``TextBackend``

The server module is not imported here: it runs as ``__main__`` in the child.
"""

from __future__ import annotations

from modelyard.hosts.client import HostClient, HostTarget
from modelyard.hosts.executor import Executor, HostHandle, LocalHostHandle, LocalProcessExecutor
from modelyard.hosts.launch import AdapterRef, HostLaunch
from modelyard.hosts.supervisor import SupervisedHost, Supervisor, SupervisorConfig, backoff_delay

__all__ = [
    "AdapterRef",
    "Executor",
    "HostClient",
    "HostHandle",
    "HostLaunch",
    "HostTarget",
    "LocalHostHandle",
    "LocalProcessExecutor",
    "SupervisedHost",
    "Supervisor",
    "SupervisorConfig",
    "backoff_delay",
]
