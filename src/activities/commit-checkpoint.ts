import { saveCheckpoint } from '../state/checkpoints.js';
import type { CommitCheckpointInput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';

/**
 * Commits the checkpoint of a partitioned first load once every key range is
 * loaded (its partitions commit none of their own: a range's position is no
 * place for the stream's next run to start).
 */
export function commitCheckpoint({ db }: ActivityDeps) {
  return async (input: CommitCheckpointInput): Promise<void> => {
    await saveCheckpoint(db, input.stream, input.runId, input.checkpoint);
  };
}
