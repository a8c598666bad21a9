// Workflow and schedule ids, in one place: the stream lock depends on every
// starter (CLI, schedule, pipeline, dead-letter replay) using the same id.

/** A stream's run — sync or dead-letter replay — always has this workflow id: one at a time per stream. */
export const streamWorkflowId = (stream: string): string => stream;

/** A pipeline's run: one at a time per pipeline. */
export const pipelineWorkflowId = (pipeline: string): string => `pipeline:${pipeline}`;

/** The Temporal Schedule of a stream or pipeline declared with a `schedule`. */
export const scheduleIdOf = (name: string): string => `ferry:${name}`;

/** A peripheral node's exchange run (workflow id, and the run rows' name): one at a time per node. */
export const exchangeRunName = (node: string): string => `exchange:${node}`;

/** A dry run of a stream: its own id, so it neither blocks nor waits for the stream's real run. */
export const dryRunWorkflowId = (stream: string): string => `dry-run:${stream}`;
