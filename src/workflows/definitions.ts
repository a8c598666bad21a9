import { defineQuery } from '@temporalio/workflow';
import type { Progress } from './contracts.js';

/** Live progress of a stream run: batches, counts, cursor. */
export const progressQuery = defineQuery<Progress>('progress');

export const TASK_QUEUE_DEFAULT = 'ferry';
