"""Publishing, product by product: the serving views whose tables passed every check upstream.

The serving views are dbt models (`models/serving/`, tag `serving`), one per data product, each a
`select *` over one table. They are built only here, after the gate, and only for the products
with no failed check on their table or anything it is built from (`lineage`). On Delta a view is
pinned to the table version the gate validated (`version as of`), so a withheld product keeps
serving what was published before while its table moves on. Parquet has no versions: a withheld
product's view is dropped rather than left showing rows no check passed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

from lakehouse import dbt_runner, delta
from lakehouse.checks import CheckResult
from lakehouse.dbt_runner import relation_of
from lakehouse.errors import LakehouseError
from lakehouse.validate import audit
from lakehouse.validate.lineage import Lineage

SERVING_TAG = "serving"
VERSIONS_VAR = "serving_versions"  # table -> the Delta version its serving view is pinned to


@dataclass(frozen=True)
class Product:
    model: str  # the serving model's name
    view: str  # serving.<name>
    table: str  # the table it serves


@dataclass
class Publication:
    published: list[str] = field(default_factory=list)  # serving views built by this run
    versions: dict[str, int] = field(default_factory=dict)  # table -> the Delta version served
    withheld: dict[str, str] = field(default_factory=dict)  # view -> why

    @property
    def complete(self) -> bool:
        return not self.withheld


def products(manifest: dict[str, Any]) -> list[Product]:
    """Every serving model of the manifest, with the one table it serves."""
    nodes = manifest.get("nodes", {})
    found = []
    for unique_id, node in sorted(nodes.items()):
        if node.get("resource_type") != "model" or SERVING_TAG not in node.get("tags", []):
            continue
        parents = [p for p in manifest.get("parent_map", {}).get(unique_id, []) if p in nodes]
        if len(parents) != 1:
            raise LakehouseError(f"serving model {node['name']} must select from exactly one model")
        found.append(Product(node["name"], relation_of(node), relation_of(nodes[parents[0]])))
    return found


def withheld(chosen: Iterable[Product], failures: Iterable[CheckResult], lineage: Lineage) -> dict[str, str]:
    """view -> why, for every product with a failed blocking check on its table or upstream."""
    failed: dict[str, str] = {}
    for failure in failures:
        if failure.blocking:
            failed.setdefault(failure.object, failure.describe())
    by_table = {product.table: product for product in chosen}
    return {by_table[table].view: reason for table, reason in lineage.withheld(by_table, failed).items()}


def publish(
    spark: SparkSession, manifest: dict[str, Any], failures: list[CheckResult], run_id: str, target: str
) -> Publication:
    """Build the serving views of the products nothing failed for; record what was published."""
    all_products = products(manifest)
    publication = Publication(withheld=withheld(all_products, failures, Lineage.from_manifest(manifest)))
    chosen = [p for p in all_products if p.view not in publication.withheld]
    versions = {p.table: v for p in chosen if (v := delta.table_version(spark, p.table)) is not None}
    if chosen:
        command = [
            "run",
            "--select",
            *(p.model for p in chosen),
            "--vars",
            json.dumps({VERSIONS_VAR: versions}),
        ]
        outcome = dbt_runner.invoke(command, target)
        if not outcome.success:
            raise LakehouseError(f"building the serving views failed: {'; '.join(outcome.failures[:3])}")
    publication.published, publication.versions = [p.view for p in chosen], versions
    for product in all_products:
        if product.view in publication.withheld and delta.provider(spark, product.table) != "delta":
            spark.sql(f"drop view if exists {product.view}")  # Parquet: no earlier version to keep serving
    delta.record_published_versions(spark, run_id, versions, audit.file_format())
    return publication
