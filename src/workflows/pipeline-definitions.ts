import { defineQuery } from '@temporalio/workflow';
import type { PipelineStepOutcome } from './pipeline-contracts.js';

/** Live state of a pipeline run: every step with its status and stream runs so far. */
export const pipelineProgressQuery = defineQuery<PipelineStepOutcome[]>('pipelineProgress');
