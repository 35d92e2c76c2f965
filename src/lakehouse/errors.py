"""Errors the project reports to people as one clear line."""

from __future__ import annotations


class LakehouseError(Exception):
    """A problem with input, configuration or the environment, explained in one line."""
