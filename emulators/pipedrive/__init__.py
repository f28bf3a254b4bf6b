"""Pipedrive's API rendered over the shared ground truth (tests, demo and evaluation only)."""

from emulators.pipedrive.server import PipedriveServer

__all__ = ["PipedriveServer"]
