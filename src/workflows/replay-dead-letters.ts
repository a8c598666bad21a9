import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { addCounts, formatCounts, zeroCounts } from '../core/types.js';
import type { Progress, ReplayTally, RunSummary } from './contracts.js';
import { progressQuery } from './definitions.js';
import { streamWorkflowId } from './ids.js';
import type { ReplayCarriedState, ReplayDeadLettersInput } from './replay-contracts.js';
import { tagOutcome, tagRun } from './search-attributes.js';
import { activitiesFor, beginOrClose, describeError, startupActivities } from './run-activities.js';

/**
 * Replays a stream's dead letters (all, or the given ids) with the stream's
 * current schema, mapper and target: each page of dead letters is staged from
 * the state store (claim check) and goes through validateBatch -> mapBatch ->
 * upsertBatch like a fetched batch. A record that goes through is written and
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

  let phase: Progress['phase'] = input.carried ? 'syncing' : 'starting';
  setHandler(progressQuery, () => ({
    runId,
    stream: plan.stream,
    mode: 'replay',
    phase,
    batches: state.batches,
    records: state.records,
    counts: state.counts,
    cursor: { afterDeadLetterId: state.afterId },
    startedAt: state.startedAt,
  }));

  let finished = false;
  const finish = async (status: RunSummary['status'], message?: string, error?: string, deadLetters?: ReplayTally): Promise<RunSummary> => {
    finished = true;
    phase = 'finishing';
    await CancellationScope.nonCancellable(() => acts.finishRun({ runId, status, counts: state.counts, batches: state.batches, message, error }));
    phase = 'done';
    setCurrentDetails(`**replay ${status}** — ${state.records} of ${state.selected} dead letters: ${formatCounts(state.counts)}${message ? `\n\n${message}` : ''}`);
    tagOutcome(tagged, status, state, `replay ${status}: ${formatCounts(state.counts)}${error ? ` — ${error}` : message ? ` — ${message}` : ''}`);
    return {
      runId,
      stream: plan.stream,
      mode: 'replay',
      status,
      batches: state.batches,
      records: state.records,
      counts: state.counts,
      ...(message ? { message } : {}),
      ...(deadLetters ? { deadLetters } : {}),
    };
  };

  const root = CancellationScope.current();
  let batchesThisExecution = 0;
  let done = false;
  try {
    phase = 'syncing';
    while (!done) {
      if (root.consideredCancelled) {
        await finish('cancelled', 'replay cancelled between batches; the dead letters not yet replayed stay in the queue');
        throw new CancelledFailure(`replay of stream "${plan.stream}" cancelled after batch ${state.batches}`);
      }
      const batchNo = state.batches;
      // A batch is never cut in half: cancellation is honoured between batches.
      const outcome = await CancellationScope.nonCancellable(async () => {
        const staged = await acts.stageDeadLetters({
          stream: plan.stream,
          runId,
          batchNo,
          ids: input.ids,
          afterId: state.afterId,
          maxId: state.maxId,
          limit: plan.batchSize,
        });
        if (staged.staged === 0) return { staged, counts: { failed: staged.unreplayable } };
        const ref = { stream: plan.stream, runId, batchId: staged.batchId };
        const validated = await acts.validateBatch(ref);
        const mapped = await acts.mapBatch(ref);
        // checkpoint null: a replay never moves the stream's checkpoint.
        const upserted = await acts.upsertBatch({ ...ref, mode: 'replay', checkpoint: null });
        return { staged, counts: { ...upserted, failed: upserted.failed + validated.failed + mapped.failed + staged.unreplayable } };
      });
      state = {
        ...state,
        afterId: outcome.staged.lastId,
        batches: batchNo + 1,
        records: state.records + outcome.staged.count,
        counts: addCounts(state.counts, outcome.counts),
      };
      done = outcome.staged.done;
      batchesThisExecution += 1;
      setCurrentDetails(`replay: batch ${state.batches}, ${state.records} of ${state.selected} dead letters — ${formatCounts(state.counts)}`);
      if (!done && !root.consideredCancelled && (batchesThisExecution >= plan.continueAsNewEvery || workflowInfo().continueAsNewSuggested)) break;
    }
    if (done) {
      if (state.selected === 0) return await finish('succeeded', 'nothing to replay: no dead letters selected');
      if (!patched('replay-counts-what-it-leaves')) {
        // histories of replays begun before the count existed: their message, unchanged
        const { failed } = state.counts;
        return await finish('succeeded', `replayed ${state.records} dead letters: ${state.records - failed} went through, ${failed} failed again and stay in the queue`);
      }
      // Counted in the queue, not inferred from the pages: a dead letter the pages missed shows here.
      const left = await acts.countReplayLeft({ stream: plan.stream, runId, ids: input.ids, maxId: state.maxId });
      const tally: ReplayTally = { selected: state.selected, replayed: state.records - state.counts.failed, remaining: left.remaining };
      return await finish(left.remaining > 0 ? 'warning' : 'succeeded', replayMessage(tally, left.failedAgain), undefined, tally);
    }
  } catch (err) {
    if (isCancellation(err)) {
      if (finished) throw err;
      await finish('cancelled', 'replay cancelled; the dead letters not yet replayed stay in the queue');
      throw err;
    }
    const error = describeError(err);
    await finish('failed', undefined, error);
    throw ApplicationFailure.nonRetryable(`replay of stream "${plan.stream}" failed: ${error}`, 'ReplayFailed');
  }

  await condition(allHandlersFinished);
  return continueAsNew<typeof replayDeadLetters>({ stream: input.stream, ...(input.ids ? { ids: input.ids } : {}), carried: state });
}

/** "replayed 43 of 48 selected dead letters; 5 remain in the queue (5 failed again)" */
function replayMessage(tally: ReplayTally, failedAgain: number): string {
  const head = `replayed ${tally.replayed} of ${tally.selected} selected dead letter${tally.selected === 1 ? '' : 's'}`;
  if (tally.remaining === 0) return `${head}; none remain in the queue`;
  const notReached = tally.remaining - failedAgain;
  const why = [`${failedAgain} failed again`, ...(notReached > 0 ? [`${notReached} not reached: replay again`] : [])].join(', ');
  return `${head}; ${tally.remaining} remain${tally.remaining === 1 ? 's' : ''} in the queue (${why})`;
}
