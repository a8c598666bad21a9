import { allHandlersFinished, condition, defineSignal, isCancellation, setCurrentDetails, setHandler, sleep, ApplicationFailure } from '@temporalio/workflow';
import { failureText, startLocked } from './child-runs.js';
import { streamWorkflowId } from './ids.js';
import type { syncStream } from './sync-stream.js';

/** "Run this stream soon": what links/export-now.ts sends with signal-with-start. */
export const runRequestedSignal = defineSignal('ferry.runRequested');

export interface RunSoonInput {
  stream: string;
}

export interface RunSoonResult {
  stream: string;
  /** the ferry run ids this workflow started, in order */
  runs: string[];
  /** how many requests it served (the start and every signal) */
  requests: number;
}

/** Longest wait between looks at a busy stream: a run of hours costs a few events a minute. */
const MAX_WAIT_S = 30;

/**
 * Runs a stream as soon as possible, coalescing requests: one workflow per
 * stream (id `run-soon:<stream>`), started or signalled by `exportNow`. A
 * request that arrives while it runs (or while a run started by someone
 * else — the CLI, a schedule — holds the stream's lock) asks for one more
 * run after it, which reads whatever changed meanwhile; any number of
 * requests meanwhile make one run.
 */
export async function runSoon(input: RunSoonInput): Promise<RunSoonResult> {
  let requests = 0;
  setHandler(runRequestedSignal, () => {
    requests += 1;
  });
  // The signal that came with the start is handled in the first activation: wait for it (a plain start waits 5 s).
  await condition(() => requests > 0, '5s');
  const runs: string[] = [];
  let covered = -1;
  while (requests > covered) {
    let wait = 1;
    for (;;) {
      // Requests so far are served by the run about to start: it reads the source after it starts.
      covered = requests;
      const started = await startLocked<typeof syncStream>('syncStream', streamWorkflowId(input.stream), [{ stream: input.stream }]);
      if ('handle' in started) {
        setCurrentDetails(`running stream "${input.stream}" (workflow ${started.handle.workflowId})`);
        try {
          runs.push((await started.handle.result()).runId);
        } catch (err) {
          if (isCancellation(err)) throw err;
          // A failed run is on its run row; later requests still get their run.
          runs.push(`failed: ${failureText(err)}`);
        }
        break;
      }
      // Someone else's run holds the lock: it may have read the source before the request, so run after it.
      setCurrentDetails(`stream "${input.stream}" is busy (workflow ${started.busy}); waiting to run after it`);
      await sleep(`${wait}s`);
      wait = Math.min(MAX_WAIT_S, wait * 2);
    }
  }
  await condition(allHandlersFinished);
  if (runs.length === 0) throw ApplicationFailure.nonRetryable(`stream "${input.stream}": no run started`, 'RunSoonFailed');
  setCurrentDetails(`**done** — ${runs.length} run(s) for ${requests} request(s)`);
  return { stream: input.stream, runs, requests };
}
