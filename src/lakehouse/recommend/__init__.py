"""Item-to-item recommendations from session co-occurrence, with a popularity fallback and an
offline evaluation by time split."""

from __future__ import annotations
