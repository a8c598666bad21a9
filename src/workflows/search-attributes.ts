import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { RunCounts } from '../core/types.js';
import { SEARCH_ATTRIBUTES } from './search-attribute-keys.js';

/** What a run is, for search: set once it has begun. */
export interface RunTags {
  stream?: string | undefined;
  pair?: string | undefined;
  pipeline?: string | undefined;
  mode: string;
}

/**
 * Tags this workflow execution. `registered` comes from the worker (a begin
 * activity's result): upserting an attribute the server does not know fails
 * the workflow task forever, so nothing is upserted unless they all exist.
 */
export function tagRun(registered: boolean, tags: RunTags): void {
  if (!registered) return;
  const pairs: SearchAttributeUpdatePair[] = [
    { key: SEARCH_ATTRIBUTES.mode, value: tags.mode },
    { key: SEARCH_ATTRIBUTES.status, value: 'running' },
  ];
  if (tags.stream !== undefined) pairs.push({ key: SEARCH_ATTRIBUTES.stream, value: tags.stream });
  if (tags.pair !== undefined) pairs.push({ key: SEARCH_ATTRIBUTES.pair, value: tags.pair });
  if (tags.pipeline !== undefined) pairs.push({ key: SEARCH_ATTRIBUTES.pipeline, value: tags.pipeline });
  upsertSearchAttributes(pairs);
}

/** The finished run's status and counts (search attributes when registered) and its one-line summary (memo, always). */
export function tagOutcome(registered: boolean, status: string, outcome: { records?: number; counts?: RunCounts | undefined }, summary: string): void {
  // a new command: a run that finished before it existed replays without it
  if (patched('ferry-run-memo')) upsertMemo({ summary });
  if (!registered) return;
  const pairs: SearchAttributeUpdatePair[] = [{ key: SEARCH_ATTRIBUTES.status, value: status }];
  if (outcome.records !== undefined) pairs.push({ key: SEARCH_ATTRIBUTES.records, value: outcome.records });
  if (outcome.counts) {
    pairs.push({ key: SEARCH_ATTRIBUTES.written, value: outcome.counts.created + outcome.counts.updated });
    pairs.push({ key: SEARCH_ATTRIBUTES.failed, value: outcome.counts.failed });
  }
  upsertSearchAttributes(pairs);
}
