import { createHash } from 'node:crypto';
import { ConfigurationError } from '../../core/errors.js';
import { serializeKey } from '../../core/key.js';
import { RecordRejectedError, TransientError, TransientWithDelayError } from '../errors.js';
import type { DeleteRow, Target, TargetCapabilities, TargetRejection, TargetRow, UpsertResult, WriteContext } from '../target.js';
import { ConcurrencyLimit } from './concurrency.js';
import { atPath } from './json-path.js';
import { HttpClient, statusFailure, type HttpConnection, type HttpReply, type HttpRequest } from './request.js';
import { recordRetryPolicy, RetryAborted, withRecordRetry, type RecordRetryOptions, type RecordRetryPolicy } from './retry.js';

/** Thrown for a row not sent because the call is stopping (another record failed for good, or the activity was cancelled). */
const STOPPED = Symbol('not sent: the call is stopping');

/** Paths may hold `{id}` (B's internal id, from the binding) and `{key}` (the external key, parts joined by '/'). */
export interface HttpTargetOptions extends HttpConnection {
  /** the system written to: 'app', '1c' */
  system: string;
  /** a new record: POST to `path`; B's id read from the response at `idPath` (default 'id') and kept in the binding */
  create: { path: string; method?: 'POST' | 'PUT'; idPath?: string };
  /** a record B has (it has an id): default PUT `${create.path}/{id}`; a 404 creates it again */
  update?: { path?: string; method?: 'PUT' | 'PATCH' };
  /**
   * default DELETE the update path; `{ method: 'PATCH', body: { archived: true } }`
   * archives instead (a soft delete: a later PUT update writes the record
   * whole and so restores it; with a PATCH update, put the archive field in
   * the projection); false: the API cannot delete.
   */
  delete?: false | { path?: string; method?: 'DELETE' } | { path?: string; method: 'PATCH' | 'PUT' | 'POST'; body: Record<string, unknown> };
  /** a batch endpoint, where the API has one: one request per `limit` records instead of one per record */
  batch?: HttpBatchEndpoint;
  /** header carrying a key per record version, so a retried create is not applied twice by an API that honours it; false: none */
  idempotencyHeader?: string | false;
  /** requests in flight at once, per target; default 4 */
  concurrency?: number;
  /**
   * a record's transient failures (5xx, 408, 429, resets, timeouts) retried
   * inside the call, so the other records of the batch are not sent again;
   * false: none (a failure fails the call at once). Defaults: RECORD_RETRY_DEFAULTS.
   */
  recordRetry?: RecordRetryOptions | false;
}

/**
 * A batch endpoint: the body is the records' fields (each with `idField` set
 * to B's id when it has one), as an array or under `itemsField`; the reply
 * holds one result per record, in order, at `resultsPath`: its id at `idPath`,
 * or a status >= 400 at `statusPath` and a message at `errorPath` (that record
 * is rejected, the others are written).
 */
export interface HttpBatchEndpoint {
  path: string;
  method?: 'POST' | 'PUT' | 'PATCH';
  /** most records per request */
  limit: number;
  itemsField?: string;
  /** default 'id' */
  idField?: string;
  resultsPath?: string;
  /** default: create.idPath */
  idPath?: string;
  /** default 'status' */
  statusPath?: string;
  /** default 'error' */
  errorPath?: string;
}

const fill = (template: string, values: { id?: string | null; key: readonly string[] }) =>
  template
    .replace(/\{id\}/g, () => encodeURIComponent(values.id ?? ''))
    .replace(/\{key\}/g, () => values.key.map(encodeURIComponent).join('/'));

/** An idempotency key per (stream, record, version, kind of write): the same on every retry, new for every change. */
const idempotencyKey = (parts: readonly string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);

/** A signal that never aborts: for a call made outside an activity. */
const NEVER = new AbortController().signal;

/** The error to throw for several failed requests: the longest server-given delay, else the first. */
function firstFailure(errors: unknown[]): unknown {
  const delayed = errors.filter((e): e is TransientWithDelayError => e instanceof TransientWithDelayError);
  return delayed.sort((a, b) => b.delayMs - a.delayMs)[0] ?? errors[0];
}

/**
 * Writes records to a JSON HTTP API: one request per record (at most
 * `concurrency` in flight) or a batch endpoint. A 4xx other than 401/403/408/429
 * rejects that record (dead letter, with status and body); 5xx, timeouts and
 * network faults are retried, first per request inside the call (recordRetry),
 * then by the activity's retry; 429/503 with Retry-After wait what the server asked.
 */
class HttpTarget implements Target {
  readonly system: string;
  readonly capabilities: TargetCapabilities;
  private readonly client: HttpClient;
  private readonly limit: ConcurrencyLimit;
  private readonly what: string;
  private readonly updatePath: string;
  private readonly retry: RecordRetryPolicy;

  constructor(private readonly options: HttpTargetOptions) {
    this.what = `httpTarget({ create: { path: ${JSON.stringify(options.create?.path)} } })`;
    this.system = options.system;
    this.client = new HttpClient(options, this.what);
    if (!options.create?.path) throw new ConfigurationError(`${this.what}: field "create.path": required`, "e.g. create: { path: '/customers' }");
    this.updatePath = options.update?.path ?? `${options.create.path.replace(/\/+$/, '')}/{id}`;
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigurationError(`${this.what}: field "concurrency": must be a positive integer, got ${JSON.stringify(concurrency)}`);
    this.limit = new ConcurrencyLimit(concurrency);
    this.retry = recordRetryPolicy(options.recordRetry, this.what);
    const batchLimit = options.batch?.limit;
    if (options.batch && (!Number.isInteger(batchLimit) || (batchLimit ?? 0) < 1)) throw new ConfigurationError(`${this.what}: field "batch.limit": must be a positive integer`);
    const del = options.delete;
    this.capabilities = {
      delete: del === false ? false : del && del.method !== undefined && del.method !== 'DELETE' ? 'soft' : 'hard',
      returnsIds: true,
      // PUT by id is idempotent; a create is, on APIs that honour the idempotency header
      idempotent: true,
      batchLimit,
    };
    if (del === false) this.delete = undefined;
  }

  async check(): Promise<void> {
    this.client.checkSecrets();
  }

  private idempotency(parts: string[]): Record<string, string> {
    const header = this.options.idempotencyHeader ?? 'Idempotency-Key';
    return header === false ? {} : { [header]: idempotencyKey(parts) };
  }

  /** Throws for a reply that is not 2xx: retried, configuration, or this record rejected (with status and body). */
  private judge(reply: HttpReply, context: WriteContext): void {
    const where = `stream "${context.stream}": target "${this.system}"`;
    const failure = statusFailure(reply, where);
    if (failure) throw failure;
    if (reply.status >= 400) throw new RecordRejectedError(`${where}: ${reply.shown}: HTTP ${reply.status}`, { status: reply.status, body: reply.text });
  }

  private json(reply: HttpReply, context: WriteContext): unknown {
    if (reply.text.trim() === '') return undefined;
    try {
      return JSON.parse(reply.text) as unknown;
    } catch {
      throw new ConfigurationError(`stream "${context.stream}": target "${this.system}": ${reply.shown}: HTTP ${reply.status} with a body that is not JSON`, 'the target reads ids from JSON responses');
    }
  }

  /** Sends one request within the concurrency limit, unless `stop` says the call is stopping. */
  private request(request: HttpRequest, stop: AbortSignal): Promise<HttpReply> {
    return this.limit.run(() => {
      if (stop.aborted) throw STOPPED;
      return this.client.send(request);
    });
  }

  private async writeOne(row: TargetRow, context: WriteContext, stop: AbortSignal): Promise<string> {
    const fields = row.projection.fields;
    const version = [context.stream, serializeKey(row.key), row.version];
    if (row.internalId !== null) {
      const url = this.client.url(fill(this.updatePath, { id: row.internalId, key: row.key }));
      const reply = await this.request({ method: this.options.update?.method ?? 'PUT', url, body: fields, headers: this.idempotency([...version, 'update']) }, stop);
      // gone from B (deleted there): create it again below
      if (reply.status !== 404) {
        this.judge(reply, context);
        return row.internalId;
      }
    }
    const idPath = this.options.create.idPath ?? 'id';
    const url = this.client.url(fill(this.options.create.path, { key: row.key }));
    const reply = await this.request({ method: this.options.create.method ?? 'POST', url, body: fields, headers: this.idempotency([...version, 'create']) }, stop);
    this.judge(reply, context);
    const id = atPath(this.json(reply, context), idPath);
    if (id === undefined || id === null || id === '') {
      throw new ConfigurationError(`stream "${context.stream}": target "${this.system}": ${reply.shown}: the response has no id at "${idPath}"`, 'set create.idPath to where the API returns the new id');
    }
    return String(id);
  }

  /**
   * One request per record, at most `concurrency` in flight; each record's
   * transient failures are retried here (recordRetry), and each record B
   * holds is reported to the engine at once (`context.wrote`), so a retried
   * attempt sends only the rest. A record whose attempts are spent (or a
   * configuration error) stops the call: nothing new is sent, requests in
   * flight finish, and the call fails with that error.
   */
  async upsert(rows: readonly TargetRow[], context: WriteContext): Promise<UpsertResult> {
    if (this.options.batch) return this.upsertBatch(rows, context, this.options.batch);
    const ids: (string | null)[] = new Array<string | null>(rows.length).fill(null);
    const rejected: TargetRejection[] = [];
    // in the order they happened
    const errors: unknown[] = [];
    let notSent = 0;
    const failed = new AbortController();
    const stop = context.signal ? AbortSignal.any([failed.signal, context.signal]) : failed.signal;
    await Promise.all(
      rows.map(async (row, index) => {
        try {
          const id = await withRecordRetry(this.retry, () => this.writeOne(row, context, stop), stop);
          ids[index] = id;
          context.wrote?.(index, id);
        } catch (err) {
          if (err instanceof RecordRejectedError) rejected.push({ index, message: err.message, ...(err.status !== undefined ? { status: err.status } : {}), ...(err.body !== undefined ? { body: err.body } : {}) });
          else if (err === STOPPED || err instanceof RetryAborted) notSent += 1;
          else {
            errors.push(err);
            failed.abort();
          }
        }
      }),
    );
    // The retry sends again what the engine was not told was written: by id (PUT) or under the same idempotency key.
    if (errors.length) throw firstFailure(errors);
    if (notSent > 0) throw new TransientError(`stream "${context.stream}": target "${this.system}": ${notSent} of ${rows.length} records not sent: the activity was cancelled`);
    rejected.sort((a, b) => a.index - b.index);
    return { ids, rejected };
  }

  private async upsertBatch(rows: readonly TargetRow[], context: WriteContext, batch: HttpBatchEndpoint): Promise<UpsertResult> {
    const idField = batch.idField ?? 'id';
    const items = rows.map((r) => (r.internalId === null ? r.projection.fields : { ...r.projection.fields, [idField]: r.internalId }));
    const body = batch.itemsField ? { [batch.itemsField]: items } : items;
    const key = [context.stream, ...rows.map((r) => `${serializeKey(r.key)}@${r.version}`)];
    const url = this.client.url(batch.path);
    // A 4xx for the whole request is thrown as a rejection: the engine re-sends halves until the record at fault is alone.
    const request = { method: batch.method ?? 'POST', url, body, headers: this.idempotency([...key, 'batch']) };
    const reply = await withRecordRetry(
      this.retry,
      async () => {
        const r = await this.limit.run(() => this.client.send(request));
        this.judge(r, context);
        return r;
      },
      context.signal ?? NEVER,
    );
    const results = atPath(this.json(reply, context), batch.resultsPath);
    if (!Array.isArray(results) || results.length !== rows.length) {
      throw new ConfigurationError(
        `stream "${context.stream}": target "${this.system}": ${reply.shown}: expected ${rows.length} results at ${batch.resultsPath ? `"${batch.resultsPath}"` : 'the top of the body'}, got ${Array.isArray(results) ? results.length : 'none'}`,
        'set batch.resultsPath to the array of per-record results',
      );
    }
    const ids: (string | null)[] = [];
    const rejected: TargetRejection[] = [];
    results.forEach((result: unknown, index) => {
      const status = atPath(result, batch.statusPath ?? 'status');
      if (typeof status === 'number' && status >= 400) {
        const error = atPath(result, batch.errorPath ?? 'error');
        ids.push(null);
        rejected.push({ index, message: `stream "${context.stream}": target "${this.system}": ${reply.shown}: record refused with status ${status}${typeof error === 'string' ? `: ${error}` : ''}`, status, body: JSON.stringify(result) });
        return;
      }
      const id = atPath(result, batch.idPath ?? this.options.create.idPath ?? 'id');
      ids.push(id === undefined || id === null ? (rows[index]?.internalId ?? null) : String(id));
    });
    return { ids, rejected };
  }

  delete?: (rows: readonly DeleteRow[], context: WriteContext) => Promise<number> = async (rows, context) => {
    const del = this.options.delete || {};
    const path = del.path ?? this.updatePath;
    const settled = await Promise.allSettled(
      rows
        .filter((r) => r.internalId !== null)
        .map(async (row) => {
          const url = this.client.url(fill(path, { id: row.internalId, key: row.key }));
          const body = 'body' in del ? del.body : undefined;
          const request = { method: del.method ?? 'DELETE', url, ...(body !== undefined ? { body } : {}), headers: this.idempotency([context.stream, serializeKey(row.key), String(row.version), 'delete']) };
          return withRecordRetry(
            this.retry,
            async () => {
              const reply = await this.limit.run(() => this.client.send(request));
              if (reply.status === 404 || reply.status === 410) return 0;
              const failure = statusFailure(reply, `stream "${context.stream}": target "${this.system}"`);
              if (failure) throw failure;
              if (reply.status >= 400) throw new ConfigurationError(`stream "${context.stream}": target "${this.system}": ${reply.shown}: HTTP ${reply.status} deleting a record`, 'check the delete path and method');
              return 1;
            },
            context.signal ?? NEVER,
          );
        }),
    );
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (errors.length) throw firstFailure(errors);
    return settled.reduce((n, s) => n + (s.status === 'fulfilled' ? s.value : 0), 0);
  };

  async close(): Promise<void> {
    // fetch keeps no per-target resources
  }
}

export function httpTarget(options: HttpTargetOptions): Target {
  return new HttpTarget(options);
}
