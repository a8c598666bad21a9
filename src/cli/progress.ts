/**
 * Shows a run's progress (the workflow's progress query) while `ferry run --wait`
 * waits: a live status bar on a terminal, plain periodic lines in a log or pipe,
 * nothing at all for --json. Everything goes to stderr, so stdout keeps only
 * the final result.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../workflows/contracts.js';
import { formatDuration } from './time-format.js';

export type ProgressMode = 'bar' | 'lines' | 'silent';

export interface ProgressView {
  /** the latest progress of the run (call as often as it is polled) */
  update(progress: Progress): void;
  /** a line of its own, between progress updates (e.g. "cancelling ...") */
  note(text: string): void;
  /** stops drawing, e.g. while a prompt is shown */
  suspend(): void;
  resume(): void;
  /** stops for good, leaving the last state on screen */
  stop(): void;
}

/** bar on a terminal, lines otherwise, silent for --json. */
export function progressModeFor(json: boolean, out: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (json) return 'silent';
  return out.isTTY ? 'bar' : 'lines';
}

/** Records per second over the last few samples (a moving window), else since the run started. */
class RateMeter {
  private samples: { at: number; records: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  add(records: number, at = Date.now()): void {
    const last = this.samples.at(-1);
    if (last && records < last.records) this.samples = []; // a new run (e.g. the next of a pair)
    this.samples.push({ at, records });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  rate(progress: Progress, now = Date.now()): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first && last && last.at - first.at >= 1000 && last.records > first.records) {
      return ((last.records - first.records) * 1000) / (now - first.at);
    }
    const elapsed = (now - Date.parse(progress.startedAt)) / 1000;
    return elapsed > 0 ? progress.records / elapsed : 0;
  }
}

function countsText(p: Progress): string {
  const c = p.counts;
  return `created ${c.created} · updated ${c.updated} · skipped ${c.skipped}${c.deleted ? ` · deleted ${c.deleted}` : ''} · failed ${c.failed}`;
}

function rateText(rate: number): string {
  return rate >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
}

/** One line describing the run: what the bar shows and what log lines say. */
export function describeProgress(p: Progress, rate: number, now = Date.now()): string {
  const elapsed = formatDuration((now - Date.parse(p.startedAt)) / 1000);
  return `${p.phase} | batch ${p.batches} | ${p.records.toLocaleString('en-US')} records | ${rateText(rate)} rec/s | ${countsText(p)} | ${elapsed}`;
}

/** A bar that moves while the run is alive: sources do not say how many records they hold. */
function indeterminateBar(now: number, width = 12): string {
  const span = width - 3;
  const step = Math.floor(now / 150) % (span * 2);
  const at = step < span ? step : span * 2 - step;
  return `[${' '.repeat(at)}===${' '.repeat(span - at)}]`;
}

class BarView implements ProgressView {
  private readonly bar: cliProgress.SingleBar;
  private readonly rates = new RateMeter();
  private last: Progress | undefined;
  private active = false;
  /** while a prompt is up: updates are kept, not drawn */
  private suspended = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream,
  ) {
    this.bar = new cliProgress.SingleBar({
      stream: out,
      fps: 8,
      hideCursor: true,
      linewrap: false,
      // stop() takes the bar off the screen: a prompt, a note or the final result takes its line
      clearOnComplete: true,
      // We handle SIGINT ourselves (cancel or detach): the bar must not.
      gracefulExit: false,
      format: () => this.line(),
    });
  }

  private line(): string {
    const now = Date.now();
    if (!this.last) return `${indeterminateBar(now)} ${this.label}: waiting for the worker to start the run`;
    const moving = this.last.phase === 'done' ? '[   done   ]' : indeterminateBar(now);
    return `${moving} ${this.label}: ${describeProgress(this.last, this.rates.rate(this.last, now), now)}`;
  }

  private start(): void {
    if (this.active || this.suspended) return;
    this.active = true;
    this.bar.start(0, 0);
  }

  update(progress: Progress): void {
    this.last = progress;
    this.rates.add(progress.records);
    this.start();
    this.bar.update(progress.records);
  }

  note(text: string): void {
    const was = this.active;
    this.hide();
    this.out.write(`${text}\n`);
    if (was) this.start();
  }

  private hide(): void {
    if (!this.active) return;
    this.active = false;
    this.bar.stop();
  }

  suspend(): void {
    this.suspended = true;
    this.hide();
  }

  resume(): void {
    this.suspended = false;
    this.start();
  }

  stop(): void {
    this.suspend();
  }

  /** Shows the bar before the first progress arrives. */
  begin(): this {
    this.start();
    return this;
  }
}

class LinesView implements ProgressView {
  private readonly rates = new RateMeter();
  private printedAt = 0;
  private printed: string | undefined;
  private last: Progress | undefined;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WritableStream,
    /** a line when something changed, at most this often */
    private readonly everyMs: number,
    /** and one anyway this often, so a log shows the run is still being watched */
    private readonly quietMs: number,
  ) {}

  private key(p: Progress): string {
    return `${p.runId}/${p.phase}/${p.batches}`;
  }

  update(progress: Progress): void {
    this.last = progress;
    this.rates.add(progress.records);
    const now = Date.now();
    const changed = this.key(progress) !== this.printed;
    if (this.printed === undefined || (changed && now - this.printedAt >= this.everyMs) || now - this.printedAt >= this.quietMs) this.print(progress, now);
  }

  private print(p: Progress, now: number): void {
    this.printed = this.key(p);
    this.printedAt = now;
    this.out.write(`${new Date(now).toISOString()} ${this.label}: ${describeProgress(p, this.rates.rate(p, now), now)}\n`);
  }

  note(text: string): void {
    this.out.write(`${text}\n`);
  }

  suspend(): void {}
  resume(): void {}

  stop(): void {
    // the last state, unless it was just printed
    if (this.last && this.key(this.last) !== this.printed) this.print(this.last, Date.now());
  }
}

const silentView: ProgressView = { update() {}, note() {}, suspend() {}, resume() {}, stop() {} };

export interface ProgressViewOptions {
  /** lines mode: at most one line per this many ms while the run moves (default 5000) */
  lineEveryMs?: number;
  /** lines mode: a line at least this often even when nothing moved (default 60000) */
  quietLineMs?: number;
  out?: NodeJS.WriteStream;
}

export function createProgressView(mode: ProgressMode, label: string, options: ProgressViewOptions = {}): ProgressView {
  const out = options.out ?? process.stderr;
  switch (mode) {
    case 'bar':
      return new BarView(label, out).begin();
    case 'lines':
      return new LinesView(label, out, options.lineEveryMs ?? 5_000, options.quietLineMs ?? 60_000);
    default:
      return silentView;
  }
}
