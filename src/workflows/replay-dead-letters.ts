import { ApplicationFailure, continueAsNew, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { formatCounts, zeroCounts } from '../core/types.js';
import { isSummary, runBatches, type BatchRunView } from './batch-run.js';
import type { ReplayTally, RunSummary } from './contracts.js';
import { progressQuery } from './definitions.js';
import { streamWorkflowId } from './ids.js';
import type { PreparedReplayBatch, ReplayCarriedState, ReplayDeadLettersInput } from './replay-contracts.js';
import { tagOutcome, tagRun } from './search-attributes.js';
import { activitiesFor, beginOrClose, preparingActivities, startupActivities } from './run-activities.js';

/**
 * Replays a stream's dead letters (all, or the given ids) with the stream's
 * current schema, mapper and target, on the stream run's data path
 * (batch-run.ts): each page of dead letters is read from the state store,
 * prepared (validated, mapped) and held by a worker, and written by upsertBatch
 * like a fetched batch. A record that goes through is written and
 * leaves the queue (bindings and resolution in one transaction); one that
 * fails again keeps its dead letter, one attempt more, with the newest error.
 *
 * Runs under the stream's workflow id, so it never overlaps a sync run of the
 * stream; never moves the checkpoint; leaves a run row with mode 'replay'.
 */
export async function replayDeadLetters(input: ReplayDeadLettersInput): Promise<RunSummary> {
  const info = workflowInfo();
  let state: ReplayCarriedState;
  if (input.carried) {
    state = input.carried;
  } else {
    if (info.workflowId !== streamWorkflowId(input.stream)) {
      // Another id would not hold the stream's lock: refuse rather than risk overlapping a sync run.
      throw ApplicationFailure.nonRetryable(
        `a replay of stream "${input.stream}" must run under workflow id "${streamWorkflowId(input.stream)}", not "${info.workflowId}"`,
        'ReplayFailed',
      );
    }
    const runId = uuid4();
    const startedAt = new Date().toISOString();
    const begun = await beginOrClose(runId, `replay of stream "${input.stream}"`, 'ReplayFailed', { stream: input.stream, mode: 'replay' }, () =>
      startupActivities.beginReplay({ stream: input.stream, runId, workflowId: info.workflowId, workflowRunId: info.firstExecutionRunId, ids: input.ids, startedAt }),
    );
    state = { runId, plan: begun.plan, maxId: begun.maxId, afterId: '0', selected: begun.selected, batches: 0, records: 0, counts: zeroCounts(), startedAt, searchAttributes: begun.searchAttributes ?? false };
  }
  const { plan, runId } = state;
  const tagged = state.searchAttributes ?? false;
  tagRun(tagged, { stream: plan.stream, mode: 'replay' });
  const acts = activitiesFor(plan);
  const preparing = preparingActivities(plan);

  const view: BatchRunView<ReplayCarriedState> = { state, phase: input.carried ? 'syncing' : 'starting' };
  setHandler(progressQuery, () => {
    const { state: s } = view;
    return { runId, stream: plan.stream, mode: 'replay', phase: view.phase, batches: s.batches, records: s.records, counts: s.counts, cursor: { afterDeadLetterId: s.afterId }, startedAt: s.startedAt };
  });

  const outcome = await runBatches<ReplayCarriedState, PreparedReplayBatch, string>(
    {
      plan,
      runId,
      what: `replay of stream "${plan.stream}"`,
      failureType: 'ReplayFailed',
      // a page's unreplayable dead letters are failed again while it is prepared: not ahead of the run
      prepareAhead: false,
      position: (s) => s.afterId,
      after: (batch) => batch.lastId,
      prepare: (batchNo, afterId, lost) =>
        preparing.prepareReplayBatch({ stream: plan.stream, runId, batchNo, ids: input.ids, afterId, maxId: state.maxId, limit: plan.batchSize, ...(lost ? { lost } : {}) }),
      // checkpoint null: a replay never moves the stream's checkpoint.
      upsert: (batch) => (batch.staged > 0 ? { stream: plan.stream, runId, batchId: batch.batchId, mode: 'replay', checkpoint: null } : undefined),
      advance: (s, batch) => ({ ...s, afterId: batch.lastId }),
      progress: (s) => `replay: batch ${s.batches}, ${s.records} of ${s.selected} dead letters — ${formatCounts(s.counts)}`,
      async complete(s) {
        if (s.selected === 0) return { state: s, ending: { status: 'succeeded', message: 'nothing to replay: no dead letters selected' } };
        if (!patched('replay-counts-what-it-leaves')) {
          // histories of replays begun before the count existed: their message, unchanged
          const { failed } = s.counts;
          return { state: s, ending: { status: 'succeeded', message: `replayed ${s.records} dead letters: ${s.records - failed} went through, ${failed} failed again and stay in the queue` } };
        }
        // Counted in the queue, not inferred from the pages: a dead letter the pages missed shows here.
        const left = await acts.countReplayLeft({ stream: plan.stream, runId, ids: input.ids, maxId: s.maxId });
        const tally: ReplayTally = { selected: s.selected, replayed: s.records - s.counts.failed, remaining: left.remaining };
        return { state: s, ending: { status: left.remaining > 0 ? 'warning' : 'succeeded', message: replayMessage(tally, left.failedAgain) }, extra: { deadLetters: tally } };
      },
      closing: (status, s, message) => `**replay ${status}** — ${s.records} of ${s.selected} dead letters: ${formatCounts(s.counts)}${message ? `\n\n${message}` : ''}`,
      tag: (status, s, error, message) => tagOutcome(tagged, status, s, `replay ${status}: ${formatCounts(s.counts)}${error ? ` — ${error}` : message ? ` — ${message}` : ''}`),
      summary: (status, s) => ({ runId, stream: plan.stream, mode: 'replay', status, batches: s.batches, records: s.records, counts: s.counts }),
      cancelled: {
        betweenBatches: 'replay cancelled between batches; the dead letters not yet replayed stay in the queue',
        otherwise: 'replay cancelled; the dead letters not yet replayed stay in the queue',
      },
    },
    view,
    undefined,
  );
  if (isSummary(outcome)) return outcome;
  return continueAsNew<typeof replayDeadLetters>({ stream: input.stream, ...(input.ids ? { ids: input.ids } : {}), carried: outcome.state });
}

/** "replayed 43 of 48 selected dead letters; 5 remain in the queue (5 failed again)" */
function replayMessage(tally: ReplayTally, failedAgain: number): string {
  const head = `replayed ${tally.replayed} of ${tally.selected} selected dead letter${tally.selected === 1 ? '' : 's'}`;
  if (tally.remaining === 0) return `${head}; none remain in the queue`;
  const notReached = tally.remaining - failedAgain;
  const why = [`${failedAgain} failed again`, ...(notReached > 0 ? [`${notReached} not reached: replay again`] : [])].join(', ');
  return `${head}; ${tally.remaining} remain${tally.remaining === 1 ? 's' : ''} in the queue (${why})`;
}
