import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { FerryActivities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import { addCounts, formatCounts, zeroCounts } from '../core/types.js';
import { EXCHANGE_NON_RETRYABLE_ERROR_TYPES } from '../exchange/errors.js';
import { tagOutcome, tagRun } from './search-attributes.js';
import type { ExchangeCarried, ExchangeNodeInput, ExchangeSummary } from './exchange-contracts.js';
import { beginOrClose, describeError, startupActivities } from './run-activities.js';
import { exchangeRunName } from './ids.js';

/**
 * Retryable steps of an exchange; a refusal retrying cannot fix (bad token,
 * schema mismatch, malformed packet, unknown node) fails the run at once. The
 * heartbeat timeout lets a killed worker's step be retried within seconds.
 */
const acts = proxyActivities<FerryActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    maximumAttempts: 8,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...EXCHANGE_NON_RETRYABLE_ERROR_TYPES],
  },
});

export const exchangeProgressQuery = defineQuery<ExchangeCarried>('exchangeProgress');

/**
 * One exchange of a peripheral node with the central node (workflow id
 * `exchange:<node>`: one at a time per node). Rounds of collect -> send ->
 * acknowledge -> apply until a round moves nothing either way (so its packet
 * carried the acknowledgement of the last reply and both queues are empty), a
 * large backlog going in several bounded packets. Packets stay in the node's
 * database; history holds packet numbers and counts. Leaves a run row like a
 * stream run (name `exchange:<node>`).
 */
export async function exchangeNode(input: ExchangeNodeInput): Promise<ExchangeSummary> {
  const info = workflowInfo();
  let state: ExchangeCarried;
  if (input.carried) {
    state = input.carried;
  } else {
    const runId = uuid4();
    const startedAt = new Date().toISOString();
    const begun = await beginOrClose(runId, `exchange of node "${input.node}"`, 'ExchangeRunFailed', { stream: exchangeRunName(input.node), mode: 'exchange' }, () =>
      acts.beginExchange({ node: input.node, runId, workflowId: info.workflowId, startedAt }),
    );
    state = { runId, mode: begun.mode, maxRounds: input.maxRounds ?? begun.maxRounds, rounds: 0, sent: 0, received: 0, conflicts: 0, counts: zeroCounts(), startedAt };
  }
  const node = input.node;
  setHandler(exchangeProgressQuery, () => state);

  const describe = () => `sent ${state.sent}, received ${state.received} entities in ${state.rounds} rounds; ${state.conflicts} conflicts`;
  let finished = false;
  const finish = async (status: ExchangeSummary['status'], message?: string, error?: string): Promise<ExchangeSummary> => {
    finished = true;
    const text = message ?? describe();
    const closed = await CancellationScope.nonCancellable(() => startupActivities.finishRun({ runId: state.runId, status, counts: state.counts, batches: state.rounds, message: text, error }));
    setCurrentDetails(`**${status}** — ${text}`);
    const tagged = closed?.searchAttributes ?? false;
    tagRun(tagged, { stream: exchangeRunName(node), mode: 'exchange' });
    tagOutcome(tagged, status, { records: state.sent + state.received, counts: state.counts }, `${status}: ${error ?? text}`);
    const { runId, mode, rounds, sent, received, conflicts, counts } = state;
    return { runId, node, mode, status, rounds, sent, received, conflicts, counts, message: text };
  };

  const root = CancellationScope.current();
  let roundsThisExecution = 0;
  try {
    for (;;) {
      if (root.consideredCancelled) {
        await finish('cancelled', `cancelled between rounds; ${describe()}`);
        throw new CancelledFailure(`exchange of node "${node}" cancelled after round ${state.rounds}`);
      }
      // A round is never cut in half: cancellation is honoured between rounds.
      const round = await CancellationScope.nonCancellable(async () => {
        const collected = await acts.collectExchange({ node, runId: state.runId, round: state.rounds });
        const sent = await acts.sendExchange({ node, packetNo: collected.packetNo });
        await acts.acknowledgeExchange({ node, ack: sent.ack });
        const applied = await acts.applyExchange({ node, packetNo: sent.replyPacketNo });
        return { collected, sent, applied };
      });
      const { collected, sent, applied } = round;
      state = {
        ...state,
        rounds: state.rounds + 1,
        sent: state.sent + collected.entities,
        received: state.received + sent.replyEntities,
        conflicts: state.conflicts + applied.conflicts,
        counts: addCounts(state.counts, { created: applied.inserted, updated: applied.updated, skipped: applied.unchanged, deleted: applied.deleted }),
      };
      roundsThisExecution += 1;
      setCurrentDetails(`round ${state.rounds}: ${describe()} — ${formatCounts(state.counts)}`);
      if (collected.entities === 0 && sent.replyEntities === 0) return await finish('succeeded');
      if (state.rounds >= state.maxRounds) return await finish('warning', `stopped after ${state.rounds} rounds with changes still moving; the next exchange goes on (${describe()})`);
      if (workflowInfo().continueAsNewSuggested && roundsThisExecution > 1) break;
    }
  } catch (err) {
    if (isCancellation(err)) {
      if (!finished) await finish('cancelled', `cancelled; ${describe()}`);
      throw err;
    }
    const error = describeError(err);
    if (!finished) await finish('failed', undefined, error);
    // A plain Error would only retry the workflow task forever; fail the run instead.
    throw ApplicationFailure.nonRetryable(`exchange of node "${node}" failed: ${error}`, 'ExchangeRunFailed');
  }
  await condition(allHandlersFinished);
  return continueAsNew<typeof exchangeNode>({ node, carried: state });
}
