import { MAX_PARTITIONS, partitionCount, partitionSetting, type StreamPlan } from '../config/define-stream.js';
import { ConfigurationError } from '../core/errors.js';
import { hasBindings } from '../state/bindings.js';
import { getCheckpoint } from '../state/checkpoints.js';
import { closeAbandonedRuns, insertRun } from '../state/runs.js';
import type { BeginRunInput, BeginRunOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import { beginLinkedRun } from '../links/begin-linked-run.js';
import { linkedPairOf } from '../links/pair-links.js';

/**
 * Opens the run row, checks the stream against the real systems, and says
 * where to start. The row comes first so that a run failing its checks still
 * leaves one (the workflow closes it with the error).
 */
export function beginRun({ db, streams, searchAttributes }: ActivityDeps) {
  return (input: BeginRunInput): Promise<BeginRunOutput> =>
    heartbeating(async () => {
      const stream = streams.get(input.stream);
      const mode = input.full || !stream.plan.incremental ? 'full' : 'incremental';
      await closeAbandonedRuns(db, stream.name, input.runId);
      await insertRun(db, { id: input.runId, stream: stream.name, workflowId: input.workflowId, workflowRunId: input.workflowRunId, mode, startedAt: new Date(input.startedAt) });
      if (mode === 'full' && !stream.source.capabilities.snapshot) {
        throw new ConfigurationError(`stream "${stream.name}": source system "${stream.source.system}" cannot read a complete pass`, 'run it without --full');
      }
      await callConnector(() => stream.source.check(stream.shape));
      await callConnector(() => stream.target.check());
      await beginLinkedRun(db, streams, stream); // links/: a linked pair's old bindings become links
      const checkpoint = mode === 'incremental' ? await getCheckpoint(db, stream.name) : undefined;
      const plan: StreamPlan = { ...stream.plan, ...(input.batchSize ? { batchSize: input.batchSize } : {}) };
      const cursor = checkpoint?.cursor ?? null;
      // A first load (no checkpoint, or a complete pass) may be split into key ranges loaded at once;
      // not a linked pair's stream, whose writes read and update the entity links one batch at a time.
      if (input.partitions !== undefined && !partitionCount.safeParse(input.partitions).success) {
        throw new ConfigurationError(`stream "${stream.name}": partitions ${input.partitions} is not a whole number from 1 to ${MAX_PARTITIONS}`);
      }
      const setting = input.partitions !== undefined ? partitionSetting(input.partitions) : plan.partitions;
      const count = setting?.count ?? 1;
      const splits = cursor === null && count > 1 && stream.source.partition !== undefined && !linkedPairOf(streams, stream);
      const partitions = splits ? ((await callConnector(async () => (await stream.source.partition?.(stream.shape, count, plan.batchSize)) ?? null)) ?? undefined) : undefined;
      if (partitions && setting) plan.partitions = setting;
      // One run per stream: until this one ends, only it writes the stream's bindings.
      const unbound = partitions ? !(await hasBindings(db, { stream: stream.name, system: stream.source.system })) : false;
      return { plan, mode, cursor, pair: stream.pair?.name, searchAttributes: searchAttributes ?? false, ...(partitions ? { partitions: { ...partitions, ...(unbound ? { unbound } : {}) } } : {}) };
    });
}
