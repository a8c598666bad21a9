import type { ResolvedStream } from '../config/define-stream.js';
import { ConfigurationError } from '../core/errors.js';
import { keyOf, serializeKey } from '../core/key.js';
import { zeroCounts, type RunCounts } from '../core/types.js';
import { versionOf } from '../core/version.js';
import { pageBindingKeys } from '../state/binding-keys.js';
import { loadBindings } from '../state/bindings.js';
import { getCheckpoint } from '../state/checkpoints.js';
import type { DryRunInput, DryRunOutcome, DryRunOutput } from '../workflows/dry-run-contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';

const BINDING_PAGE = 5_000;

/**
 * Reads the source as a run would — from the checkpoint, or a complete pass —
 * and says what the run would create, update, skip (unchanged version),
 * fail (schema or mapper) and delete, with a few keys of each. Writes
 * nothing: not the target, not the bindings, not the checkpoint, not even
 * staging. It only reads the bindings and the checkpoint.
 *
 * The keys seen are held in memory (for the deletes of a complete pass and
 * for keys read twice in one pass): about 100 bytes a record. A retried
 * attempt starts over, which is safe because nothing was written.
 */
export function dryRunStream({ db, streams }: ActivityDeps) {
  return (input: DryRunInput): Promise<DryRunOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const { plan } = stream;
      const mode = input.full || !plan.incremental ? 'full' : 'incremental';
      if (mode === 'full' && !stream.source.capabilities.snapshot) {
        throw new ConfigurationError(`stream "${stream.name}": source system "${stream.source.system}" cannot read a complete pass`, 'dry-run it without --full');
      }
      await callConnector(() => stream.source.check(stream.shape));
      const scope = { stream: stream.name, system: stream.source.system };
      const from = mode === 'incremental' ? ((await getCheckpoint(db, stream.name))?.cursor ?? null) : null;
      const limit = input.batchSize ?? plan.batchSize;
      const sampleSize = input.sampleSize ?? 5;

      const counts: RunCounts = zeroCounts();
      const samples: Record<DryRunOutcome, string[]> = { created: [], updated: [], skipped: [], deleted: [], failed: [] };
      const count = (outcome: DryRunOutcome, key: string) => {
        counts[outcome] += 1;
        if (samples[outcome].length < sampleSize) samples[outcome].push(key);
      };
      /** key -> version this pass would leave in the bindings (a key read twice compares with the first read) */
      const planned = new Map<string, string | null>();
      let cursor = from;
      let records = 0;
      let batches = 0;
      for (let done = false; !done; ) {
        const page = await callConnector(() => stream.source.fetch({ shape: stream.shape, after: cursor, limit, mode, rewind: batches === 0 && mode === 'incremental' }));
        batches += 1;
        records += page.rows.length;
        cursor = page.next;
        done = page.done;
        // the last row of a key in a page supersedes the earlier ones, as in a run
        const lastOfKey = new Map<string, number>();
        const keyed = page.rows.map((row, i) => {
          const parts = keyOf(row, stream.shape.key);
          const key = parts ? serializeKey(parts) : null;
          if (key !== null) lastOfKey.set(key, i);
          return { row, parts, key };
        });
        const fresh = keyed.flatMap(({ key }) => (key !== null && !planned.has(key) ? [key] : []));
        const known = await loadBindings(db, scope, fresh);
        for (const [i, { row, parts, key }] of keyed.entries()) {
          if (key === null || parts === null) {
            count('failed', `(row ${records - page.rows.length + i + 1} has no key)`);
            continue;
          }
          if (lastOfKey.get(key) !== i) {
            count('skipped', key);
            continue;
          }
          const version = versionOf(row, stream.version);
          const before = planned.has(key) ? { version: planned.get(key) ?? null } : known.get(key);
          if (!passes(stream, row, parts)) {
            count('failed', key);
            // a failed record keeps its binding (a full pass marks it seen)
            if (!planned.has(key)) planned.set(key, before?.version ?? null);
            continue;
          }
          planned.set(key, version);
          if (!before) count('created', key);
          else if (before.version === version) count('skipped', key);
          else count('updated', key);
        }
      }

      let deletes: DryRunOutput['deletes'] = null;
      if (mode === 'full' && plan.deletes.mode !== 'none') {
        let known = 0;
        let unseen = 0;
        const unseenSample: string[] = [];
        for (let after: string | null = null; ; ) {
          const keys = await pageBindingKeys(db, scope, after, BINDING_PAGE);
          if (keys.length === 0) break;
          known += keys.length;
          for (const key of keys) {
            if (planned.has(key)) continue;
            unseen += 1;
            if (unseenSample.length < sampleSize) unseenSample.push(key);
          }
          after = keys[keys.length - 1] as string;
        }
        const share = known === 0 ? 0 : unseen / known;
        const guardTrips = plan.deletes.mode === 'mirror' && share > plan.deletes.maxDeleteFraction;
        deletes = { mode: plan.deletes.mode, known, unseen, share, guardTrips, awaitsApproval: guardTrips && plan.deletes.awaitApprovalMs !== undefined };
        counts.deleted = guardTrips ? 0 : unseen;
        samples.deleted = unseenSample;
      }
      return { stream: stream.name, mode, from, records, batches, counts, samples, deletes };
    });
}

/** The schema and the mapper, as mapBatch applies them; a throw is a failed record. */
function passes(stream: ResolvedStream, row: Record<string, unknown>, key: string[]): boolean {
  const parsed = stream.schema.safeParse(row);
  if (!parsed.success) return false;
  try {
    const projection = stream.map(parsed.data, { stream: stream.name, key });
    return typeof projection === 'object' && projection !== null && typeof projection.kind === 'string' && typeof projection.fields === 'object' && projection.fields !== null;
  } catch {
    return false;
  }
}
