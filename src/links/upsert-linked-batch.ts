/**
 * upsertBatch for a stream of a linked pair: the same contract (target write
 * first, then one state-store transaction; a retried batch commits once), with
 * the pair's links in place of per-stream bindings:
 *
 * - skip: the record's version (hash of its significant fields) is the one
 *   the link holds for its side — unchanged, or the echo of what the pair's
 *   other stream wrote there (that stream recorded the version it produced);
 * - conflict: the side about to be written changed too since the last sync
 *   (read with the other stream's source, when it can read by key): the
 *   pair's policy decides, and the conflict log keeps the case;
 * - write: the target, then the link records both sides' versions, so the
 *   other stream skips what this one wrote;
 * - write-back (export streams that declare it): the outcome into the source
 *   rows, one statement, right *after* the commit. Before it, a crash between
 *   the write-back and the commit would lose the batch: the retry reads the
 *   source again, and a source filtered on the flag the write-back clears
 *   (`needs_1c_export`) no longer returns those rows, so they would never be
 *   linked or counted. The rows are saved with the commit (stage 'write-back')
 *   and applied from there, also by an attempt that finds the batch committed
 *   and by prepareBatch re-preparing a batch lost with its worker.
 *
 * Batches of one pair run one at a time (upsertLinkedBatch, at the end).
 */
import { sql } from 'kysely';
import type { TargetRow } from '../connectors/target.js';
import type { WriteBackRow } from '../connectors/source.js';
import { keyOf, parseKey, serializeKey, valueAt } from '../core/key.js';
import type { RawRow } from '../core/types.js';
import { versionOf } from '../core/version.js';
import { putConflicts, type ConflictEntry } from '../state/conflicts.js';
import { saveCheckpoint } from '../state/checkpoints.js';
import { putDeadLetters, resolveDeadLetters, type NewDeadLetter } from '../state/dead-letters.js';
import { loadLinks, writeLinks, type Link, type LinkWrite } from '../state/links.js';
import { addBatchProgress } from '../state/runs.js';
import { dropBatchPayloads, dropStage, findStage, putStage, putStageOnce } from '../state/staging.js';
import type { HeldBatch } from '../activities/held-batches.js';
import type { ResolvedStream } from '../config/define-stream.js';
import type { UpsertBatchInput, UpsertBatchOutput } from '../workflows/contracts.js';
import type { StateDb } from '../state/db.js';
import { callConnector } from '../activities/connector-call.js';
import type { MappedRow } from '../activities/stages.js';
import { rejectionText, upsertRows } from '../activities/target-writes.js';
import { describeRecord } from '../activities/validate-batch.js';
import type { LinkedPair, LinkSide } from './pair-links.js';
import { pick, policyName, resolveConflict, sameValue, type ConflictPolicy, type LastWriterWins, type Resolution } from './policies.js';

class BatchAlreadyCommitted extends Error {}

/** What the batch does with one changed record. */
interface Plan {
  row: MappedRow;
  key: string;
  link: Link | undefined;
  sourceFields: Record<string, unknown>;
  /** the fields written to the target (the projection, merged when a conflict merged) */
  fields: Record<string, unknown>;
  resolution?: Resolution | undefined;
}

const keyOn = (link: Link, side: LinkSide) => (side === 'local' ? link.localKey : link.remoteKey);
const versionOn = (link: Link, side: LinkSide) => (side === 'local' ? link.localVersion : link.remoteVersion);
const fieldsOn = (link: Link, side: LinkSide) => (side === 'local' ? link.localFields : link.remoteFields);

/** A target id as a link key: the same serialized form the other stream's record keys have. */
const idAsKey = (id: string | null): string | null => (id === null ? null : serializeKey([id]));
/** A link key as a target's internal id (a single-part key). */
const keyAsId = (key: string | null): string | null => (key === null ? null : (parseKey(key)[0] ?? null));

function lastWriterFields(policy: ConflictPolicy): LastWriterWins['lastWriterWins'] | undefined {
  if (typeof policy !== 'object') return undefined;
  if ('lastWriterWins' in policy) return policy.lastWriterWins;
  const fallback = policy.merge;
  return typeof fallback === 'object' && 'lastWriterWins' in fallback ? fallback.lastWriterWins : undefined;
}

/** The current records on the target side of the links that may conflict, by link key. */
async function readTargetSide(linked: LinkedPair, links: readonly Link[]): Promise<Map<string, RawRow>> {
  const other = linked.other;
  const read = other?.source.read?.bind(other.source);
  if (!other || !read || !linked.targetFields) return new Map();
  const keys = links.map((l) => keyOn(l, linked.targetSide)).filter((k): k is string => k !== null);
  if (keys.length === 0) return new Map();
  const rows = await callConnector(() => read(other.shape, keys.map(parseKey)));
  const byKey = new Map<string, RawRow>();
  for (const row of rows) {
    const parts = keyOf(row, other.shape.key);
    if (parts) byKey.set(serializeKey(parts), row);
  }
  return byKey;
}

async function writeLinkedBatch(db: StateDb, input: UpsertBatchInput, linked: LinkedPair, batch: HeldBatch): Promise<UpsertBatchOutput> {
  const stream = linked.self;
  const scope = { stream: stream.name, system: stream.source.system };
  const { rows, letters: stagedLetters } = batch.mapped;
  const { raw } = batch;
  const keys = rows.map((r) => r.keyText);
  const links = await loadLinks(db, linked.name, linked.sourceSide, keys);
  const targetRule = linked.targetFields ? { fields: linked.targetFields } : undefined;
  const rewrite = input.mode === 'replay';

  // 1. unchanged (or an echo) vs changed
  const plans: Plan[] = [];
  const unchanged: { key: string; link: Link }[] = [];
  rows.forEach((row, i) => {
    const key = keys[i] as string;
    const link = links.get(key);
    if (!rewrite && link && versionOn(link, linked.sourceSide) === row.version) {
      unchanged.push({ key, link });
      return;
    }
    const data = raw[row.index]?.data ?? {};
    plans.push({ row, key, link, sourceFields: pick(data, linked.sourceFields), fields: row.projection.fields });
  });

  // 2. conflicts: the target side changed too since the last sync
  const suspects = plans.filter((p) => p.link && versionOn(p.link, linked.targetSide) !== null).map((p) => p.link as Link);
  const current = await readTargetSide(linked, suspects);
  const conflicts: ConflictEntry[] = [];
  const lww = lastWriterFields(linked.policy);
  for (const plan of plans) {
    const targetKey = plan.link ? keyOn(plan.link, linked.targetSide) : null;
    const now = targetKey ? current.get(targetKey) : undefined;
    if (!plan.link || !now || !targetRule || !linked.other) continue;
    if (versionOf(now, linked.other.version) === versionOn(plan.link, linked.targetSide)) continue;
    const incoming = pick(plan.fields, targetRule.fields);
    const currentValues = pick(now, targetRule.fields);
    // Both sides changed to the same values: nothing to decide.
    if (targetRule.fields.every((f) => sameValue(incoming[f], currentValues[f]))) continue;
    const data = raw[plan.row.index]?.data ?? {};
    const [inField, curField] = linked.policyOnSelf ? [lww?.source, lww?.target] : [lww?.target, lww?.source];
    const resolution = resolveConflict(linked.policy, {
      pair: linked.name,
      stream: stream.name,
      incoming,
      current: currentValues,
      base: fieldsOn(plan.link, linked.targetSide),
      declaringStream: linked.policyOnSelf,
      incomingTime: inField ? valueAt(data, inField) : undefined,
      currentTime: curField ? valueAt(now, curField) : undefined,
    });
    plan.resolution = resolution;
    if (resolution.winner === 'merged') plan.fields = { ...plan.fields, ...resolution.values };
    const result = resolution.winner === 'current' ? currentValues : resolution.winner === 'incoming' ? incoming : pick(plan.fields, targetRule.fields);
    const system = resolution.winner === 'incoming' ? stream.source.system : resolution.winner === 'current' ? stream.target.system : 'both';
    conflicts.push({
      pair: linked.name,
      stream: stream.name,
      runId: input.runId,
      batchId: input.batchId,
      localKey: linked.sourceSide === 'local' ? plan.key : targetKey,
      remoteKey: linked.sourceSide === 'remote' ? plan.key : targetKey,
      policy: policyName(linked.policy),
      winner: `${resolution.winner} (${system})`,
      reason: resolution.reason,
      incoming,
      current: currentValues,
      base: fieldsOn(plan.link, linked.targetSide),
      result,
    });
  }

  // 3. the target write (a conflict the current side won writes nothing there)
  const toWrite = plans.filter((p) => p.resolution?.winner !== 'current');
  const rowsOut: TargetRow[] = toWrite.map((p) => {
    const internalId = p.link ? keyAsId(keyOn(p.link, linked.targetSide)) : null;
    return { key: p.row.key, internalId, op: internalId !== null ? 'update' : 'create', version: p.row.version, projection: { kind: p.row.projection.kind, fields: p.fields } };
  });
  const context = { stream: stream.name, runId: input.runId };
  const result = toWrite.length ? await callConnector(() => upsertRows(stream.target, rowsOut, context)) : { ids: [], rejected: [] };
  const rejected = new Map(result.rejected.map((r) => [r.index, r]));

  // 4. links, dead letters, counts
  const lastWriter = stream.pair?.direction ?? 'import';
  const linkWrite = (plan: Plan, targetKey: string | null, targetFields: Record<string, unknown> | null, targetVersion: string | null): LinkWrite => {
    const [localKey, remoteKey] = linked.sourceSide === 'local' ? [plan.key, targetKey] : [targetKey, plan.key];
    const [localVersion, remoteVersion] = linked.sourceSide === 'local' ? [plan.row.version, targetVersion] : [targetVersion, plan.row.version];
    const [localFields, remoteFields] = linked.sourceSide === 'local' ? [plan.sourceFields, targetFields] : [targetFields, plan.sourceFields];
    return { id: plan.link?.id ?? null, localKey, remoteKey, localVersion, remoteVersion, localFields, remoteFields, lastWriter };
  };
  const writes: LinkWrite[] = [];
  const targetLetters: NewDeadLetter[] = [];
  const output: UpsertBatchOutput = { created: 0, updated: 0, skipped: unchanged.length, failed: rejected.size };
  const backRows: WriteBackRow[] = unchanged.map(({ key, link }) => ({ key: parseKey(key), ok: true, targetId: keyAsId(keyOn(link, linked.targetSide)), error: null, written: false }));
  toWrite.forEach((plan, i) => {
    const rejection = rejected.get(i);
    if (rejection) {
      const error = `${describeRecord(stream.name, plan.row.key)}: ${rejectionText(rejection)}`;
      targetLetters.push({ recordKey: plan.key, stage: 'target', error, issues: rejection.issues ?? [], raw: raw[plan.row.index]?.data ?? {} });
      backRows.push({ key: plan.row.key, ok: false, targetId: null, error: rejectionText(rejection), written: true });
      return;
    }
    const id = result.ids[i] ?? null;
    const targetKey = idAsKey(id) ?? (plan.link ? keyOn(plan.link, linked.targetSide) : null);
    const written = targetRule ? pick(plan.fields, targetRule.fields) : null;
    // After a merge the target side holds values the source side lacks: no version there, so the
    // other stream takes the next change it reads of this entity and carries the merge back.
    const merged = plan.resolution?.winner === 'merged';
    writes.push(linkWrite(plan, targetKey, written, written && targetRule && !merged ? versionOf(plan.fields, targetRule) : null));
    backRows.push({ key: plan.row.key, ok: true, targetId: keyAsId(targetKey), error: null, written: true });
    if (plan.link && keyOn(plan.link, linked.targetSide) !== null) output.updated += 1;
    else output.created += 1;
  });
  for (const plan of plans.filter((p) => p.resolution?.winner === 'current')) {
    // The source side's change is consumed; the target side keeps its version, so the other stream carries it back.
    const link = plan.link as Link;
    writes.push(linkWrite(plan, keyOn(link, linked.targetSide), fieldsOn(link, linked.targetSide), versionOn(link, linked.targetSide)));
    backRows.push({ key: plan.row.key, ok: true, targetId: keyAsId(keyOn(link, linked.targetSide)), error: null, written: false });
    output.skipped += 1;
  }
  for (const letter of stagedLetters) backRows.push({ key: parseKey(letter.recordKey), ok: false, targetId: null, error: letter.error, written: true });

  // 5. the commit block of upsertBatch, in the caller's transaction; the write-back rows go with it (applied after)
  const ref = { runId: input.runId, stream: stream.name, batchId: input.batchId };
  if (!(await putStageOnce(db, ref, 'committed', output))) throw new BatchAlreadyCommitted();
  await writeLinks(db, linked.name, writes);
  await putConflicts(db, conflicts);
  await putDeadLetters(db, { ...scope, runId: input.runId, batchId: input.batchId }, [...stagedLetters, ...targetLetters]);
  const through = writes.map((w) => (linked.sourceSide === 'local' ? w.localKey : w.remoteKey)).filter((k): k is string => k !== null);
  await resolveDeadLetters(db, scope, [...through, ...unchanged.map((u) => u.key)]);
  if (input.checkpoint !== null) await saveCheckpoint(db, stream.name, input.runId, input.checkpoint);
  await addBatchProgress(db, input.runId, { ...output, failed: output.failed + stagedLetters.length });
  await dropBatchPayloads(db, input.batchId);
  if (stream.writeBack && backRows.length > 0) await putStage(db, ref, 'write-back', backRows);
  return output;
}

/**
 * One batch of a pair at a time, whichever stream it belongs to: the whole
 * batch — links read, the other side read, the target written, the commit —
 * runs in one state-store transaction holding the pair's advisory lock, so
 * the import and the export of a pair (two schedules that overlap) never
 * decide on links the other is changing. The transaction stays open during
 * the target write (bounded by the connector's request timeout); a crash
 * rolls it back and the retry repeats the idempotent writes. An attempt that
 * finds the batch committed (a timed-out attempt's twin) returns its result.
 */
export async function upsertLinkedBatch(db: StateDb, input: UpsertBatchInput, linked: LinkedPair, batch: HeldBatch): Promise<UpsertBatchOutput> {
  const output = await db
    .transaction()
    .execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`ferry:links:${linked.name}`}))`.execute(trx);
      if (await findStage<UpsertBatchOutput>(trx, input.batchId, 'committed')) throw new BatchAlreadyCommitted();
      return writeLinkedBatch(trx, input, linked, batch);
    })
    .catch((err: unknown) => {
      if (err instanceof BatchAlreadyCommitted) return undefined;
      throw err;
    });
  await applyWriteBack(db, linked.self, input.batchId);
  return output ?? (await findStage<UpsertBatchOutput>(db, input.batchId, 'committed')) ?? { created: 0, updated: 0, skipped: 0, failed: 0 };
}

/**
 * 6. The write-back of a committed batch into the source rows, one statement
 * (idempotent: a crash before the stage is dropped repeats it). Also called by
 * an attempt that finds the batch committed, so a crash between the commit and
 * the write-back is made good by the activity's retry, or by prepareBatch when
 * the batch was lost with its worker.
 */
export async function applyWriteBack(db: StateDb, stream: ResolvedStream, batchId: string): Promise<void> {
  const spec = stream.writeBack;
  const writeBack = spec ? stream.source.writeBack?.bind(stream.source) : undefined;
  if (!spec || !writeBack) return;
  const rows = await findStage<WriteBackRow[]>(db, batchId, 'write-back');
  if (!rows) return;
  await callConnector(() => writeBack(stream.shape, spec, rows));
  await dropStage(db, batchId, 'write-back');
}
