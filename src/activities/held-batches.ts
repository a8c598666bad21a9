import { FerryError } from '../core/errors.js';
import type { MappedStage, RawStage } from './stages.js';

/** A prepared batch as the worker that fetched it holds it: what upsertBatch reads. */
export interface HeldBatch {
  raw: RawStage;
  mapped: MappedStage;
}

/**
 * The batch is not in this worker's memory (evicted to keep memory bounded, or
 * the activity reached another process): the workflow re-fetches it from the
 * same cursor on the shared task queue. Never retried where it was thrown.
 */
export class BatchNotHeldError extends FerryError {
  constructor(batchId: string, queue: string) {
    super(`batch ${batchId} is not held by the worker on task queue "${queue}"`, 'the run re-fetches it from the same cursor');
  }
}

/** The failure type the workflow recognises (a class name is the failure type). */
export const BATCH_NOT_HELD = 'BatchNotHeldError';

/**
 * Batches held in the memory of the worker that prepared them (the claim
 * check of ARCHITECTURE.md, guarantee 4): record data never goes through
 * Temporal or the state store on the normal path. The batch's upsert is routed
 * to `queue`, a task queue only this process polls; when the process is gone
 * the workflow re-fetches the batch from the same cursor.
 *
 * Memory is bounded: at most `limit` batches, the oldest evicted first (its
 * upsert then re-fetches), and a batch is released once committed.
 */
export class HeldBatches {
  private readonly batches = new Map<string, HeldBatch>();

  constructor(
    /** the task queue that reaches this process only */
    readonly queue: string,
    readonly limit = 8,
  ) {}

  hold(batchId: string, batch: HeldBatch): void {
    this.batches.delete(batchId);
    this.batches.set(batchId, batch);
    while (this.batches.size > this.limit) this.batches.delete(this.batches.keys().next().value as string);
  }

  get(batchId: string): HeldBatch {
    const batch = this.batches.get(batchId);
    if (!batch) throw new BatchNotHeldError(batchId, this.queue);
    return batch;
  }

  release(batchId: string): void {
    this.batches.delete(batchId);
  }

  get size(): number {
    return this.batches.size;
  }
}

/** upsertBatch, releasing the batch from memory once it is committed (a failed attempt keeps it for its retry). */
export function releasing<I extends { batchId: string }, O>(held: HeldBatches, upsert: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    const output = await upsert(input);
    held.release(input.batchId);
    return output;
  };
}
