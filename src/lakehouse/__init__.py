"""dbt + PySpark lakehouse: clickstream analytics and recommendation features on Spark."""

from __future__ import annotations

__version__ = "0.1.0"
