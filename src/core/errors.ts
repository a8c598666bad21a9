/**
 * Error classes say what went wrong and what to do. Their class names are
 * Temporal failure types: the workflow lists NON_RETRYABLE_ERROR_TYPES so a
 * configuration error fails the run at once instead of retrying.
 */

export abstract class FerryError extends Error {
  /** What the operator should do about it. */
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(hint ? `${message} (${hint})` : message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** The stream definition or the systems it names are wrong: retrying cannot help. */
export class ConfigurationError extends FerryError {}

/** A named stream is not in the loaded configuration. */
export class UnknownStreamError extends ConfigurationError {
  constructor(stream: string, known: readonly string[]) {
    super(`unknown stream "${stream}"`, `known streams: ${known.join(', ') || '(none)'}`);
  }
}

/** A start was refused because the stream already has a run in progress. */
export class StreamAlreadyRunningError extends FerryError {
  constructor(
    readonly stream: string,
    readonly runningWorkflowRunId: string | undefined,
  ) {
    super(
      `stream "${stream}" is already running (workflow id "${stream}", run ${runningWorkflowRunId ?? 'unknown'})`,
      `wait for it (ferry status ${stream}) or cancel it (ferry cancel ${stream})`,
    );
  }
}

export type RecordStage = 'validate' | 'map' | 'target';

/** One field's problem inside a record. */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * A problem with one record, not with the run: the record goes to the
 * dead-letter table and the run goes on.
 */
export class RecordError extends FerryError {
  constructor(
    readonly stage: RecordStage,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * Thrown by a stream's `map` when a record breaks a business rule.
 * @example throw new MappingError('price must be positive', 'price')
 */
export class MappingError extends RecordError {
  constructor(message: string, field?: string) {
    super('map', message, field ? [{ path: field, message }] : []);
  }
}

export const NON_RETRYABLE_ERROR_TYPES = ['ConfigurationError', 'UnknownStreamError'];

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
