import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunCounts } from '../core/types.js';
import type { StateDb } from '../state/db.js';
import { FINISHED_STATUSES, METRIC, RECORD_OUTCOMES } from './names.js';
import { readAwaitingApprovals } from '../state/delete-approvals.js';
import { readStreamStates, type StreamRef, type StreamState } from './stream-state.js';

/** A run that has just been closed: what the counters add. */
export interface FinishedRunFacts {
  stream: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  counts: RunCounts;
}

/** What the finishRun activity reports to (absent when metrics are off). */
export interface RunMetrics {
  runFinished(run: FinishedRunFacts): void;
}

export interface FerryMetricsOptions {
  db: StateDb;
  /** the streams whose state-store gauges are read at scrape time */
  streams: readonly StreamRef[];
  logger: Logger;
  /** statement timeout of the scrape-time state-store query */
  stateTimeoutMs?: number;
  /** process_* and nodejs_* metrics of prom-client; default true */
  defaultMetrics?: boolean;
}

// Runs take seconds to hours: 1 s .. 6 h.
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600];

/**
 * ferry's Prometheus metrics, in a registry of their own: counters updated
 * when a run finishes (in this worker process), and gauges read from the
 * state store at scrape time (the same for every worker: aggregate them with
 * max by (stream), not sum).
 */
export class FerryMetrics implements RunMetrics {
  readonly registry = new Registry();
  private readonly records: Counter<'stream' | 'outcome'>;
  private readonly runs: Counter<'stream' | 'status'>;
  private readonly duration: Histogram<'stream' | 'status'>;
  private inflight: Promise<StreamState[] | undefined> | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: FerryMetricsOptions) {
    const registers = [this.registry];
    this.records = new Counter({ name: METRIC.records, help: 'Records handled by finished runs, by outcome', labelNames: ['stream', 'outcome'], registers });
    this.runs = new Counter({ name: METRIC.runs, help: 'Finished runs, by status', labelNames: ['stream', 'status'], registers });
    this.duration = new Histogram({
      name: METRIC.runDuration,
      help: 'Run duration from start to finish, in seconds',
      labelNames: ['stream', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Series exist from the start, so that increase() sees the first run.
    for (const { name: stream } of options.streams) {
      for (const outcome of RECORD_OUTCOMES) this.records.inc({ stream, outcome }, 0);
      for (const status of FINISHED_STATUSES) this.runs.inc({ stream, status }, 0);
    }

    const perStream = (name: string, help: string, value: (s: StreamState) => number | null) => {
      const gauge: Gauge<'stream'> = new Gauge({
        name,
        help,
        labelNames: ['stream'],
        registers,
        collect: async () => {
          gauge.reset();
          for (const s of (await this.stateSnapshot()) ?? []) {
            const v = value(s);
            if (v !== null) gauge.set({ stream: s.stream }, v);
          }
        },
      });
    };
    perStream(METRIC.deadLetters, 'Open dead letters (state store, read at scrape time)', (s) => s.deadLetters);
    perStream(METRIC.lastSuccess, 'Unix time of the last sync run (not a dead-letter replay) that finished with status succeeded', (s) =>
      s.lastSuccessAt ? s.lastSuccessAt.getTime() / 1000 : null,
    );
    perStream(
      METRIC.lag,
      'Seconds since the point the target is known to be synced up to: the time the checkpoint tells (its source reads it, e.g. a timestamp cursor), else the checkpoint write time (or the last successful run start for streams without checkpoint)',
      (s) => s.lagSeconds,
    );
    const awaiting: Gauge<'stream'> = new Gauge({
      name: METRIC.awaitingApproval,
      help: 'A run waits for a person to approve or reject a mirror-delete above the guard: the share of known records it would delete (0: nothing waits)',
      labelNames: ['stream'],
      registers,
      collect: async () => {
        awaiting.reset();
        const names = options.streams.map((s) => s.name);
        // left out of a scrape that cannot read the state store, like the other state gauges
        const pending = await readAwaitingApprovals(options.db, names).catch(() => undefined);
        if (!pending) return;
        const share = new Map(pending.map((p) => [p.stream, p.share]));
        for (const stream of names) awaiting.set({ stream }, share.get(stream) ?? 0);
      },
    });
    const up: Gauge = new Gauge({
      name: METRIC.stateStoreUp,
      help: '1 when this scrape could read the state store, else 0',
      registers,
      collect: async () => up.set((await this.stateSnapshot()) ? 1 : 0),
    });

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  runFinished(run: FinishedRunFacts): void {
    const { stream, status } = run;
    for (const outcome of RECORD_OUTCOMES) this.records.inc({ stream, outcome }, run.counts[outcome]);
    this.runs.inc({ stream, status });
    if (run.finishedAt) this.duration.observe({ stream, status }, Math.max(0, (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text format). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** One state-store query per scrape, shared by the gauges; undefined when it failed (logged once per failure streak). */
  private stateSnapshot(): Promise<StreamState[] | undefined> {
    this.inflight ??= readStreamStates(this.options.db, this.options.streams, this.options.stateTimeoutMs)
      .then((states) => {
        if (this.lastError) this.options.logger.info('metrics: the state store is readable again');
        this.lastError = undefined;
        return states;
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== this.lastError) this.options.logger.warn({ err }, 'metrics: cannot read the state store; state gauges left out of this scrape');
        this.lastError = message;
        return undefined;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
