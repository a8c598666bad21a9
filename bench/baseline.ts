// The database's own speed for the same work, for comparison: psql's COPY …
// TO STDOUT piped into psql's COPY … FROM STDIN (both C clients, text format),
// between the same source and target tables ferry uses.
import { runTimed, type TimedChild } from './timed-child.js';
import { TARGET_COLUMNS, sourceAsTarget } from './tables.js';

const cols = TARGET_COLUMNS.join(', ');

function pipeline(script: string, env: Record<string, string>): Promise<TimedChild> {
  return runTimed('the COPY baseline pipeline', 'bash', ['-c', `set -euo pipefail; ${script}`], env);
}

const psql = 'psql -X -q -v ON_ERROR_STOP=1 "$BENCH_URL"';

/** Full load: every source row, mapped, into the (empty) target. Returns wall ms and the peak RSS of the largest process (a psql). */
export function copyFull(url: string, source: string, target: string): Promise<TimedChild> {
  return pipeline(`${psql} -c "\\copy (${sourceAsTarget(source)}) to pstdout" | ${psql} -c "\\copy ${target} (${cols}) from pstdin"`, { BENCH_URL: url });
}

/**
 * Incremental: the rows changed after `since`, COPY'd into a temp table and
 * upserted with one INSERT … SELECT … ON CONFLICT DO UPDATE (COPY alone cannot update).
 */
export function copyUpsert(url: string, source: string, target: string, since: string): Promise<TimedChild> {
  const updates = TARGET_COLUMNS.filter((c) => c !== 'src_id').map((c) => `${c} = excluded.${c}`).join(', ');
  const where = `where updated_at > '${since.replace(/'/g, "''")}'`;
  return pipeline(
    `${psql} -c "\\copy (${sourceAsTarget(source, where)}) to pstdout" | ${psql} ` +
      `-c "create temp table s as select ${cols} from ${target} with no data" ` +
      `-c "\\copy s from pstdin" ` +
      `-c "insert into ${target} (${cols}) select ${cols} from s on conflict (src_id) do update set ${updates}"`,
    { BENCH_URL: url },
  );
}
