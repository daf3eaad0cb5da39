"""The reconnection backoff of socket.io-client (its ``backo2`` usage), in seconds.

Attempt ``n`` (1-based) waits ``reconnection_delay * 2**(n-1)``, moved by up to
``+/- randomization_factor`` of itself, and then capped at ``reconnection_delay_max``: the jitter
is applied before the cap, so once the cap is reached every wait is exactly the cap.
"""

from __future__ import annotations

import random as _random
from typing import Callable

# 2**63 times any positive delay is already far past any sensible cap; stops float overflow
_MAX_EXPONENT = 63


class Backoff:
    """Exponential backoff with relative jitter.

    ``rand`` returns a float in [0, 1); 0.5 means "no deviation", 0 the shortest wait and values
    near 1 the longest.  Tests inject it to make waits exact.
    """

    def __init__(
        self,
        min: float = 1.0,  # noqa: A002 - the names of socket.io-client's Backoff
        max: float = 5.0,  # noqa: A002
        jitter: float = 0.0,
        rand: Callable[[], float] = _random.random,
    ) -> None:
        self.min = min
        self.max = max
        self.jitter = jitter
        self.attempts = 0
        self._rand = rand

    def duration(self) -> float:
        """The wait before the next attempt, in seconds; counts the attempt."""
        base = self.min * 2.0 ** min(self.attempts, _MAX_EXPONENT)
        self.attempts += 1
        if self.jitter > 0 and base > 0:
            base += base * self.jitter * (2.0 * self._rand() - 1.0)
        return max(0.0, min(base, self.max))

    def reset(self) -> None:
        """Back to the first attempt (after a successful connection)."""
        self.attempts = 0


__all__ = ["Backoff"]
