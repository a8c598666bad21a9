"""One dlt run of the bench's source table into Postgres (bench/peers/dlt.ts runs it).

    dlt_load.py --url URL --table bench_src --dataset dlt_dst --mode full|incremental
                [--backend connectorx|sqlalchemy] [--format parquet|default]
                [--pipelines-dir DIR]

full: write_disposition "replace" into a fresh dataset (the caller drops it first),
      with the incremental cursor on updated_at set up so the next run is incremental.
incremental: the same pipeline, write_disposition "merge" on primary key id, only rows
      with updated_at after the last run's maximum.
Prints one JSON line on stdout: {"rows": N, "seconds": S} (S = time inside Python,
after imports).
"""
import argparse
import json
import time

t_import = time.perf_counter()
import dlt  # noqa: E402
from dlt.sources.sql_database import sql_table  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--table", required=True)
p.add_argument("--dataset", required=True)
p.add_argument("--mode", choices=["full", "incremental"], required=True)
p.add_argument("--backend", default="connectorx")
p.add_argument("--format", default="parquet")
p.add_argument("--pipelines-dir", required=True)
args = p.parse_args()

# dlt's Postgres destination insists on a password; the bench's server trusts local
# connections and ignores it, so a URL without one gets a placeholder.
dest_url = args.url
if "@" in dest_url and ":" not in dest_url.split("://", 1)[1].split("@", 1)[0]:
    scheme, rest = dest_url.split("://", 1)
    user, host = rest.split("@", 1)
    dest_url = f"{scheme}://{user}:unused@{host}"

t0 = time.perf_counter()
resource = sql_table(
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; dlt[postgres] brings psycopg2
    credentials=args.url.replace("postgresql://", "postgresql+psycopg2://", 1),
    table=args.table,
    backend=args.backend,
    incremental=dlt.sources.incremental("updated_at"),
    # connectorx returns arrow tables; "reflection_level" minimal keeps the source's types
    # as connectorx reads them.
)
resource.apply_hints(primary_key="id")
pipeline = dlt.pipeline(
    pipeline_name=f"ferry_bench_{args.dataset}",
    destination=dlt.destinations.postgres(credentials=dest_url),
    dataset_name=args.dataset,
    pipelines_dir=args.pipelines_dir,
)
run_kwargs = {"write_disposition": "replace" if args.mode == "full" else "merge"}
if args.format != "default":
    run_kwargs["loader_file_format"] = args.format
info = pipeline.run(resource, **run_kwargs)
seconds = time.perf_counter() - t0
rows = 0
trace = pipeline.last_trace
if trace and trace.last_normalize_info:
    rows = sum(trace.last_normalize_info.row_counts.get(t, 0) for t in trace.last_normalize_info.row_counts if not t.startswith("_dlt"))
print(json.dumps({"rows": rows, "seconds": seconds, "import_seconds": t0 - t_import}))
