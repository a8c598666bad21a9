// What the fake 1C can be told to do wrong, per test: shares of requests that
// fail in each way, drawn from a seeded generator so a run can be repeated.
// Set with the service's constructor options or POST /admin/faults.

import { seededRandom } from '../../support/seeded-random.js';

export interface FaultPlan {
  /** share of requests answered 500 with a 1C lock-timeout error */
  serverError?: number;
  /** share of requests whose connection is reset before 1C reads them */
  reset?: number;
  /** share of requests 1C carries out (the write commits) and whose reply is lost: the connection is reset instead */
  lostReply?: number;
  /** share of requests answered 429 with Retry-After */
  tooManyRequests?: number;
  retryAfterSeconds?: number;
  /** share of requests answered after `slowMs` */
  slow?: number;
  slowMs?: number;
  /** every request answered 503 (the 1C server is down or being updated), until set false */
  down?: boolean;
  /** only requests whose path starts with one of these are faulted; default: all but /admin */
  paths?: string[];
  /** the generator's seed; default 1 */
  seed?: number;
}

export type FaultDraw = 'none' | 'down' | 'serverError' | 'reset' | 'lostReply' | 'tooManyRequests';


export class Faults {
  private plan: FaultPlan = {};
  private random = seededRandom(1);
  /** how often each fault was served */
  readonly served: Record<FaultDraw | 'slow', number> = { none: 0, down: 0, serverError: 0, reset: 0, lostReply: 0, tooManyRequests: 0, slow: 0 };

  constructor(plan: FaultPlan = {}) {
    this.set(plan);
  }

  set(plan: FaultPlan): void {
    for (const share of ['serverError', 'reset', 'lostReply', 'tooManyRequests', 'slow'] as const) {
      const v = plan[share];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`fault share "${share}" must be between 0 and 1, got ${v}`);
    }
    const total = (plan.serverError ?? 0) + (plan.reset ?? 0) + (plan.lostReply ?? 0) + (plan.tooManyRequests ?? 0);
    if (total > 1) throw new RangeError(`fault shares add up to ${total}, more than every request`);
    this.plan = { ...plan };
    this.random = seededRandom(plan.seed ?? 1);
  }

  get current(): FaultPlan {
    return { ...this.plan };
  }

  applies(path: string): boolean {
    if (path.startsWith('/admin')) return false;
    return this.plan.paths === undefined || this.plan.paths.some((p) => path.startsWith(p));
  }

  /** The fault for one request (one draw), and how long to wait before answering. */
  draw(path: string): { fault: FaultDraw; delayMs: number } {
    if (!this.applies(path)) return { fault: 'none', delayMs: 0 };
    if (this.plan.down) return this.count({ fault: 'down', delayMs: 0 });
    const slow = this.random() < (this.plan.slow ?? 0);
    if (slow) this.served.slow += 1;
    const delayMs = slow ? (this.plan.slowMs ?? 1_000) : 0;
    let r = this.random();
    for (const fault of ['serverError', 'reset', 'lostReply', 'tooManyRequests'] as const) {
      const share = this.plan[fault] ?? 0;
      if (r < share) return this.count({ fault, delayMs });
      r -= share;
    }
    return this.count({ fault: 'none', delayMs });
  }

  get retryAfterSeconds(): number {
    return this.plan.retryAfterSeconds ?? 1;
  }

  private count(d: { fault: FaultDraw; delayMs: number }) {
    this.served[d.fault] += 1;
    return d;
  }
}
