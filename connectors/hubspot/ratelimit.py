"""Moved to :mod:`connectors.http.ratelimit` (shared by every HTTP connector); re-exported here."""

from connectors.http.ratelimit import RollingWindowLimiter

__all__ = ["RollingWindowLimiter"]
