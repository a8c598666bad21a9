import { connect, ErrorCode, headers, millis, nanos, NatsError, type ConnectionOptions, type JetStreamClient, type NatsConnection } from 'nats';
import { durationToMs, formatMs } from '../../core/duration.js';
import { ConfigurationError, errorMessage } from '../../core/errors.js';
import { stringifyJson } from '../../core/json-values.js';
import { serializeKey } from '../../core/key.js';
import { TransientError } from '../errors.js';
import type { DeleteRow, Target, TargetCapabilities, TargetRejection, TargetRow, UpsertResult, WriteContext } from '../target.js';
import { messageId, subjectMatches, subjectOf, type ChangeOp } from './messages.js';

export interface NatsTargetOptions {
  /** NATS server URL(s): 'nats://127.0.0.1:4222' */
  servers: string | readonly string[];
  /** the system the messages are for: 'analytics', 'events' (not 'nats') */
  system: string;
  /** the JetStream stream that stores the messages: created when missing (subjects `<subjectPrefix>.>`), checked otherwise */
  jetStream: string;
  /** subjects are `<subjectPrefix>.<stream>.<created|updated|deleted>`; default 'ferry' */
  subjectPrefix?: string;
  /**
   * How long JetStream remembers a message id: a change published again
   * within it (a retried batch) is dropped as a duplicate; after it, it is
   * stored again. Must cover the longest retry of a batch (the stream's retry
   * backoff plus a killed worker's heartbeat timeout). Default '10m'; used
   * when ferry creates the JetStream stream, and an existing stream's window
   * must be at least this long.
   */
  duplicateWindow?: string | number;
  /** how long to wait for each PubAck; default '10s' (no ack: the batch is retried) */
  ackTimeout?: string | number;
  /** most messages awaiting their PubAck at once; default 256 */
  maxInFlight?: number;
  /** further connection options (user, pass, token, tls, …): the `nats` client's own */
  connection?: Omit<ConnectionOptions, 'servers'>;
}

const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const STREAM_NAME = /^[A-Za-z0-9_-]+$/;

/** Header names on every message. */
export const NATS_HEADERS = {
  stream: 'Ferry-Stream',
  key: 'Ferry-Key',
  version: 'Ferry-Version',
  op: 'Ferry-Op',
  kind: 'Ferry-Kind',
  run: 'Ferry-Run',
} as const;

/** The client found the message too big for the server (max_payload), or the stream refused it for its size: the record's fault. */
function isRecordLevel(err: unknown): boolean {
  if (!(err instanceof NatsError)) return false;
  if (err.code === ErrorCode.MaxPayloadExceeded) return true;
  const api = err.api_error;
  // 10054: message size exceeds maximum allowed (the stream's max_msg_size)
  return api?.err_code === 10054;
}

/**
 * Publishes one JetStream message per applied change — created, updated,
 * deleted — on `<prefix>.<stream>.<op>`, the projection's fields as JSON
 * (exact: LosslessNumber and JSON_NULL keep their text), headers with the
 * stream, external key, version, op and kind, and a `Nats-Msg-Id` derived
 * from stream, key, version and op (messages.ts). Every PubAck is awaited: a
 * message is written only once JetStream has stored it; a missing or failed
 * ack is transient and the whole batch is published again, its already
 * stored messages dropped by the server as duplicates (within the window).
 */
class NatsTarget implements Target {
  readonly system: string;
  readonly capabilities: TargetCapabilities = { delete: 'events', returnsIds: false, idempotent: true };
  private readonly prefix: string;
  private readonly windowMs: number;
  private readonly ackTimeoutMs: number;
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: NatsTargetOptions) {
    const what = `natsTarget({ jetStream: ${JSON.stringify(options.jetStream)} })`;
    if (typeof options.system !== 'string' || options.system === '') throw new ConfigurationError(`${what}: field "system" is required`, "name the system, e.g. system: 'analytics'");
    if (!STREAM_NAME.test(options.jetStream ?? '')) throw new ConfigurationError(`${what}: field "jetStream": a JetStream stream name is letters, digits, _ and -`);
    this.system = options.system;
    this.prefix = options.subjectPrefix ?? 'ferry';
    if (!SUBJECT_PREFIX.test(this.prefix)) throw new ConfigurationError(`${what}: field "subjectPrefix": "${this.prefix}" is not a subject without wildcards`, "e.g. 'ferry' or 'acme.sync'");
    const window = durationToMs(options.duplicateWindow ?? '10m');
    if (window === undefined) throw new ConfigurationError(`${what}: field "duplicateWindow": not a duration`, "e.g. '10m'");
    this.windowMs = window;
    const ack = durationToMs(options.ackTimeout ?? '10s');
    if (ack === undefined) throw new ConfigurationError(`${what}: field "ackTimeout": not a duration`, "e.g. '10s'");
    this.ackTimeoutMs = ack;
  }

  /** Connected on first use, so a closed stream can be used again (a worker restarted in-process). */
  private connected(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connection ??= (async () => {
      const servers = typeof this.options.servers === 'string' ? this.options.servers : [...this.options.servers];
      const nc = await connect({ name: `ferry ${this.system}`, ...this.options.connection, servers });
      return { nc, js: nc.jetstream() };
    })().catch((err: unknown) => {
      this.connection = undefined;
      throw new TransientError(`NATS ${String(this.options.servers)}: cannot connect: ${errorMessage(err)}`);
    });
    return this.connection;
  }

  /** The JetStream stream: created if missing, otherwise checked to take our subjects and to remember ids long enough. */
  private ensureStream(): Promise<void> {
    this.ready ??= (async () => {
      const { nc } = await this.connected();
      const jsm = await nc.jetstreamManager();
      const name = this.options.jetStream;
      const probe = `${this.prefix}.any.created`;
      try {
        const info = await jsm.streams.info(name);
        if (!info.config.subjects?.some((s) => subjectMatches(s, probe))) {
          throw new ConfigurationError(
            `JetStream stream "${name}" does not take subjects ${this.prefix}.> (it takes ${info.config.subjects?.join(', ') || 'none'})`,
            `add "${this.prefix}.>" to its subjects, or set subjectPrefix`,
          );
        }
        const window = millis(info.config.duplicate_window ?? 0);
        if (this.options.duplicateWindow !== undefined && window < this.windowMs) {
          throw new ConfigurationError(
            `JetStream stream "${name}" remembers message ids for ${formatMs(window)}, less than the duplicateWindow ${formatMs(this.windowMs)}`,
            'raise its duplicate_window (nats stream edit), or lower duplicateWindow',
          );
        }
      } catch (err) {
        if (!(err instanceof NatsError && err.api_error?.err_code === 10059)) throw err; // 10059: stream not found
        await jsm.streams.add({ name, subjects: [`${this.prefix}.>`], duplicate_window: nanos(this.windowMs) });
      }
    })().catch((err: unknown) => {
      this.ready = undefined;
      if (err instanceof ConfigurationError || err instanceof TransientError) throw err;
      throw new TransientError(`JetStream stream "${this.options.jetStream}": ${errorMessage(err)}`);
    });
    return this.ready;
  }

  async check(): Promise<void> {
    await this.ensureStream();
  }

  async upsert(rows: readonly TargetRow[], context: WriteContext): Promise<UpsertResult> {
    const ids = new Array<string | null>(rows.length).fill(null);
    const rejected: TargetRejection[] = [];
    await this.publish(
      rows.map((row) => ({ key: row.key, version: row.version, op: row.op === 'create' ? 'created' : 'updated', kind: row.projection.kind, body: stringifyJson(row.projection.fields) })),
      context,
      (index, err) => rejected.push({ index, message: `JetStream stream "${this.options.jetStream}": ${errorMessage(err)}` }),
    );
    return { ids, rejected };
  }

  /** Publishes a `deleted` event per record (no body; key and last version in the headers). */
  async delete(rows: readonly DeleteRow[], context: WriteContext): Promise<number> {
    await this.publish(
      rows.map((row) => ({ key: row.key, version: row.version, op: 'deleted' as const, kind: null, body: '' })),
      context,
      (_, err) => {
        throw err;
      },
    );
    return rows.length;
  }

  private async publish(
    messages: readonly { key: readonly string[]; version: string | null; op: ChangeOp; kind: string | null; body: string }[],
    context: WriteContext,
    reject: (index: number, err: unknown) => void,
  ): Promise<void> {
    if (messages.length === 0) return;
    await this.ensureStream();
    const { js } = await this.connected();
    const encoder = new TextEncoder();
    const failures: unknown[] = [];
    const inFlight = new Set<Promise<void>>();
    const limit = Math.max(1, this.options.maxInFlight ?? 256);
    for (const [index, m] of messages.entries()) {
      const h = headers();
      h.set(NATS_HEADERS.stream, context.stream);
      h.set(NATS_HEADERS.key, serializeKey(m.key));
      if (m.version !== null) h.set(NATS_HEADERS.version, m.version);
      h.set(NATS_HEADERS.op, m.op);
      if (m.kind !== null) h.set(NATS_HEADERS.kind, m.kind);
      h.set(NATS_HEADERS.run, context.runId);
      const sent = js
        .publish(subjectOf(this.prefix, context.stream, m.op), encoder.encode(m.body), {
          msgID: messageId(context.stream, m.key, m.version, m.op),
          headers: h,
          timeout: this.ackTimeoutMs,
          expect: { streamName: this.options.jetStream },
        })
        .then(
          () => undefined,
          (err: unknown) => {
            if (isRecordLevel(err)) reject(index, err);
            else failures.push(err);
          },
        );
      const tracked: Promise<void> = sent.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failures.length > 0) {
      // The next attempt checks the JetStream stream again (it may have been deleted or edited meanwhile).
      this.ready = undefined;
      const first = failures[0];
      if (first instanceof NatsError && first.api_error?.err_code === 10060) {
        // 10060: expected stream does not match: the subject is taken by another stream
        throw new ConfigurationError(`JetStream stream "${this.options.jetStream}": ${errorMessage(first)}`, 'another stream takes these subjects');
      }
      throw new TransientError(
        `JetStream stream "${this.options.jetStream}": ${failures.length} of ${messages.length} messages not acknowledged (${errorMessage(first)}); the batch is published again, stored messages are dropped as duplicates`,
      );
    }
  }

  async close(): Promise<void> {
    const open = this.connection;
    this.connection = undefined;
    this.ready = undefined;
    if (!open) return;
    const { nc } = await open.catch(() => ({ nc: undefined }));
    await nc?.drain().catch(() => undefined);
  }
}

export function natsTarget(options: NatsTargetOptions): Target {
  return new NatsTarget(options);
}
