"""Moved to :mod:`connectors.http.redact` (shared by every HTTP connector); re-exported here."""

from connectors.http.redact import MASK, Secret, redact

__all__ = ["MASK", "Secret", "redact"]
