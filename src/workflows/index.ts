export { syncStream } from './sync-stream.js';
export { loadPartition } from './load-partition.js';
export { runPipeline } from './run-pipeline.js';
export { scheduledRun } from './scheduled-run.js';
export { replayDeadLetters } from './replay-dead-letters.js';
export { exchangeNode } from './exchange.js';
export { dryRun } from './dry-run.js';
export { runSoon } from './run-soon.js';
