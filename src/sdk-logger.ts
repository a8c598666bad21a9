import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * What the SDK says when a worker has no workflows: true of every ferry worker's second
 * Worker, the one that polls the process's own task queue for the writes of the batches it
 * holds (activities only, by design), so it is not worth a warning at each start.
 */
const HOLDER_NOTICE = 'No workflows registered, not polling for workflow tasks';

/** The Temporal SDK's console logger, less that one notice. */
export class FerrySdkLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === HOLDER_NOTICE) return;
    super.log(level, message, meta);
  }
}
