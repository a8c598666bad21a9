/**
 * What crosses Temporal history between the exchange workflow and its
 * activities: node codes, packet numbers and counts — never entity data or
 * tokens (packets stay in the node's database: outbox and inbox). Types only.
 */
import type { ApplyStats } from '../exchange/packets.js';
import type { RunCounts, RunMode, RunStatus } from '../core/types.js';

export interface ExchangeNodeInput {
  /** the peripheral node's code */
  node: string;
  /** overrides the configured bound on rounds for this run */
  maxRounds?: number;
  /** set by continue-as-new only */
  carried?: ExchangeCarried;
}

export interface ExchangeCarried {
  runId: string;
  /** 'full': the node's initial load (it had received nothing yet) */
  mode: RunMode;
  maxRounds: number;
  rounds: number;
  sent: number;
  received: number;
  conflicts: number;
  counts: RunCounts;
  startedAt: string;
}

export interface BeginExchangeInput {
  node: string;
  runId: string;
  workflowId: string;
  startedAt: string;
}

export interface BeginExchangeOutput {
  mode: RunMode;
  maxRounds: number;
}

export interface RoundRef {
  node: string;
  runId: string;
  round: number;
}

export interface CollectedPacket {
  packetNo: number;
  entities: number;
}

export interface SentPacket {
  replyPacketNo: number;
  ack: number;
  replyEntities: number;
}

export interface AppliedPacket extends ApplyStats {
  alreadyApplied: boolean;
}

export interface ExchangeSummary {
  runId: string;
  node: string;
  mode: RunMode;
  status: Exclude<RunStatus, 'running'>;
  rounds: number;
  /** entities sent to the central node / received from it */
  sent: number;
  received: number;
  conflicts: number;
  counts: RunCounts;
  message?: string;
}
