import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating, so a worker that dies is noticed within the
 * heartbeat timeout (not the much longer activity timeout) and cancellation
 * can reach the activity.
 */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timeout = context.info.heartbeatTimeoutMs;
  if (!timeout) return work();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), Math.max(200, Math.floor(timeout / 3)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
