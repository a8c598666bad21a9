import { Context } from '@temporalio/activity';

/**
 * The progress an attempt reported (heartbeatProgress). Every heartbeat
 * repeats it: the server keeps the last heartbeat's details only, so a
 * heartbeat without them would erase it. Until an attempt reports its own,
 * it repeats the previous attempt's, so a retry that dies early loses nothing.
 */
const reported = new WeakMap<Context, unknown>();
const progressOf = (context: Context): unknown => (reported.has(context) ? reported.get(context) : context.info.heartbeatDetails);

/** Heartbeats with this attempt's progress (indexes, ids, counts: never record data); a retry reads it from `info.heartbeatDetails`. */
export function heartbeatProgress(details: unknown): void {
  const context = Context.current();
  reported.set(context, details);
  context.heartbeat(details);
}

/**
 * Runs `work` while heartbeating, so a worker that dies is noticed within the
 * heartbeat timeout (not the much longer activity timeout) and cancellation
 * can reach the activity.
 */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timeout = context.info.heartbeatTimeoutMs;
  if (!timeout) return work();
  context.heartbeat(progressOf(context));
  const timer = setInterval(() => context.heartbeat(progressOf(context)), Math.max(200, Math.floor(timeout / 3)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
