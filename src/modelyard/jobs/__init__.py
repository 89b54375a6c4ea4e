"""The work queue and the worker that runs jobs outside the web process."""

from modelyard.jobs.queue import JobQueue, Lease

__all__ = ["JobQueue", "Lease"]
