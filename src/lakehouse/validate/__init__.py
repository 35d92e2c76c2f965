"""The data-quality gate: Great Expectations suites over bronze, marts and feature tables.

- `suites`: the expectation suites, as code under version control (GX imported there).
- `gate`: runs the suites through GX on the project's one SparkSession and builds Data Docs.
- `dbt_results`: dbt test results read from dbt's `run_results.json` and `manifest.json`.
- `audit`: appends check results to `audit.check_results` with Spark.
- `steps`: the pipeline steps `validate` and `publish` (serving views only after the gate passes).

Only `suites` and `gate` import great_expectations, which costs seconds: import them lazily.
"""

from __future__ import annotations
