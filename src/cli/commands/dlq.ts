import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { dlqDiscardCommand } from './dlq-discard.js';
import { dlqListCommand } from './dlq-list.js';
import { dlqReplayCommand } from './dlq-replay.js';
import { dlqShowCommand } from './dlq-show.js';

/** `ferry dlq …`: the dead-letter queue. */
export function dlqCommand(ctx: CliContext): Command {
  return new Command('dlq')
    .description('dead letters: list, show, replay (with the current stream definition), discard')
    .addCommand(dlqListCommand(ctx))
    .addCommand(dlqShowCommand(ctx))
    .addCommand(dlqReplayCommand(ctx))
    .addCommand(dlqDiscardCommand(ctx));
}
