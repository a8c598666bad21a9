import { ConfigurationError } from '../core/errors.js';
import { getCheckpoint } from '../state/checkpoints.js';
import { closeAbandonedRuns, insertRun } from '../state/runs.js';
import type { BeginRunInput, BeginRunOutput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { callConnector } from './connector-call.js';
import { heartbeating } from './heartbeat.js';
import { beginLinkedRun } from '../links/begin-linked-run.js';

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
      const plan = input.batchSize ? { ...stream.plan, batchSize: input.batchSize } : stream.plan;
      return { plan, mode, cursor: checkpoint?.cursor ?? null, pair: stream.pair?.name, searchAttributes: searchAttributes ?? false };
    });
}
