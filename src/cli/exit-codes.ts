/** Exit codes scripts can rely on (documented in README). */
export const ExitCode = {
  ok: 0,
  /** unexpected error (Temporal or Postgres unreachable, a bug) */
  error: 1,
  /** bad usage or configuration: unknown stream, invalid option, invalid stream definition */
  config: 2,
  /** the stream already has a run in progress */
  alreadyRunning: 3,
  /** the run finished with status failed */
  runFailed: 4,
  /** the run finished with status warning (e.g. mirror-delete guard) */
  runWarning: 5,
  /** the run was cancelled */
  runCancelled: 6,
  /** a dead-letter replay ended leaving some of the dead letters it was asked to replay in the queue (they failed again, or were not reached) */
  deadLettersRemain: 7,
  /** `run --wait` was interrupted (Ctrl-C) and detached: the run goes on; 128 + SIGINT, as shells report an interrupted command */
  detached: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Thrown by commands to end with a given code and message; caught once, in client.ts. */
export class CliExit extends Error {
  constructor(
    readonly code: ExitCodeValue,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
