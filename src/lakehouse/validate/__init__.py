"""Quality and publishing: what the checks found and what may be served.

- `suites`: the Great Expectations suites, as code (bronze contract, drift, reconciliation).
- `gate`: runs the suites through GX on the project's one SparkSession and builds Data Docs.
- `dbt_results`: dbt test results read from dbt's `run_results.json` and `manifest.json`.
- `audit`: appends check results to `audit.check_results` with Spark.
- `lineage`: which tables each table is built from, from the dbt manifest.
- `publish`: the serving views of every data product no failed check touches.

Only `suites` and `gate` import great_expectations, which costs seconds: import them lazily.
"""

from __future__ import annotations
