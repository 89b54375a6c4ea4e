"""Where the provider hop meets modelyard: transport failures and provider statuses become our errors.

The caller sees what went wrong in words it can act on, never the provider's URL, never
a stack trace, never modelyard's own credentials (quoted messages are scrubbed of them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from modelyard.backends.openai_compatible import http1
from modelyard.backends.openai_compatible.wire import error_message
from modelyard.errors import (
    BackendUnavailable,
    InvalidRequest,
    ModelyardError,
    PayloadTooLarge,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)

__all__ = ["Boundary"]

# The provider says the request itself is wrong: the caller can fix it, so it is a 400.
_CALLER_STATUSES = frozenset({400, 404, 422})


@dataclass(frozen=True, slots=True)
class Boundary:
    """Error translation for one backend (its timeouts name the wait; its secret is hidden)."""

    read_timeout_s: float
    connect_timeout_s: float
    secret: str | None = None

    @contextmanager
    def translate(self) -> Iterator[None]:
        """Turn the client's exceptions raised inside the block into modelyard's."""
        try:
            yield
        except http1.PoolTimedOut as exc:
            # Waiting for one of our own pooled connections: modelyard is saturated.
            raise BackendUnavailable("too many requests to the provider are in flight; retry") from exc
        except http1.ConnectTimedOut as exc:
            raise UpstreamTimeout(
                f"could not reach the provider within {self.connect_timeout_s:g} s"
            ) from exc
        except http1.ReadTimedOut as exc:
            raise UpstreamTimeout(f"the provider did not answer within {self.read_timeout_s:g} s") from exc
        except http1.ConnectFailed as exc:
            raise UpstreamError("could not reach the provider") from exc
        except http1.TransportFailure as exc:  # reset, closed mid-body, protocol violations
            raise UpstreamError("the connection to the provider failed") from exc

    def error_for(self, response: http1.UpstreamResponse) -> ModelyardError:
        """The error a non-2xx provider response means; its body must have been read."""
        status = response.status_code
        if status in _CALLER_STATUSES:
            return InvalidRequest(f"the provider rejected the request: {self._quote(response)}")
        if status == 413:
            return PayloadTooLarge(f"the provider found the request too large: {self._quote(response)}")
        if status in (401, 403):
            # modelyard's key for the provider is wrong or lacks access: the operator's
            # configuration, not the caller's fault, hence a 502 and not a 401.
            return UpstreamError("the provider refused modelyard's credentials")
        if status == 429:
            retry_after = response.headers.get("retry-after")
            return RateLimited(
                "the provider is rate limiting requests; retry later",
                headers={"Retry-After": retry_after} if retry_after else None,
            )
        if 300 <= status < 400:
            # Redirects are never followed: one could point modelyard's credentials or
            # its network position at an address the operator did not configure.
            return UpstreamError(f"upstream redirected (status {status}); refused", code="upstream_redirect")
        return UpstreamError(f"the provider failed with status {status}")

    def _quote(self, response: http1.UpstreamResponse) -> str:
        try:
            message = error_message(response.json())
        except ValueError:
            message = None
        if not message:
            return f"status {response.status_code}, no details given"
        if self.secret and self.secret in message:
            message = message.replace(self.secret, "***")
        return message
