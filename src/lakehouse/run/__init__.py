"""The run layer: the steps of `lakehouse run`, side by side over one typed context.

`context.RunContext` carries what each step produced (the ingest result, dbt's outcome, the
recommendation quality, the gate report, what was published); `steps` has every step; `pipeline`
runs them in order and writes `run_summary.json`. Domain packages (ingest, validate, recommend,
delta, dbt_runner) return result objects and never import this package; the command line and the
development tools (sample data, benchmark) call it.
"""
