// The database's own speed for the same work, for comparison: psql's COPY …
// TO STDOUT piped into psql's COPY … FROM STDIN (both C clients, text format),
// between the same source and target tables ferry uses.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TARGET_COLUMNS, sourceAsTarget } from './tables.js';

const cols = TARGET_COLUMNS.join(', ');

function pipeline(script: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', `set -euo pipefail; ${script}`], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`baseline pipeline failed (${code}): ${err.trim()}`));
    });
  });
}

const psql = 'psql -X -q -v ON_ERROR_STOP=1 "$BENCH_URL"';

/** Full load: every source row, mapped, into the (empty) target. Returns wall ms. */
export function copyFull(url: string, source: string, target: string): Promise<number> {
  return pipeline(`${psql} -c "\\copy (${sourceAsTarget(source)}) to pstdout" | ${psql} -c "\\copy ${target} (${cols}) from pstdin"`, { BENCH_URL: url });
}

/**
 * Incremental: the rows changed after `since`, COPY'd into a temp table and
 * upserted with one INSERT … SELECT … ON CONFLICT DO UPDATE (COPY alone cannot update).
 */
export function copyUpsert(url: string, source: string, target: string, since: string): Promise<number> {
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
