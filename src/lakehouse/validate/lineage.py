"""Which data products a failed check touches, from dbt's lineage.

A data product is a serving view over one table. A failed check is about one table (a bronze
table, a model, a feature table); every product whose table is that table or is built from it,
directly or not, is withheld, and the others are published. So a recommender that does not beat
its baseline withholds the recommendations and nothing else, while a broken `fct_events` withholds
everything built from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.dbt_runner import relation_of


@dataclass(frozen=True)
class Lineage:
    """Tables (`schema.table`) and what each is built from, read from a dbt manifest."""

    parents: dict[str, set[str]]

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Lineage:
        relations = {
            unique_id: relation_of(node)
            for unique_id, node in [*manifest.get("nodes", {}).items(), *manifest.get("sources", {}).items()]
            if node.get("resource_type") in ("model", "seed", "snapshot", "source")
        }
        parents: dict[str, set[str]] = {relation: set() for relation in relations.values()}
        for unique_id, parent_ids in manifest.get("parent_map", {}).items():
            if unique_id in relations:
                parents[relations[unique_id]] |= {relations[p] for p in parent_ids if p in relations}
        return cls(parents)

    @classmethod
    def from_target(cls, target_dir: Path) -> Lineage:
        path = target_dir / "manifest.json"
        return cls.from_manifest(json.loads(path.read_text())) if path.exists() else cls({})

    def upstream(self, table: str) -> set[str]:
        """`table` and every table it is built from."""
        seen, todo = set(), [table]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.parents.get(current, ()))
        return seen

    def withheld(self, products: Iterable[str], failed: dict[str, str]) -> dict[str, str]:
        """product -> why it is withheld, for every product with a failed table upstream
        (`failed`: table -> the first failed check on it)."""
        reasons = {}
        for product in products:
            hit = sorted(self.upstream(product) & set(failed))
            if hit:
                reasons[product] = f"{failed[hit[0]]}" + (
                    f" (and {len(hit) - 1} more)" if len(hit) > 1 else ""
                )
        return reasons
