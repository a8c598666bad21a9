import { ExchangeConfigurationError } from '../exchange/errors.js';
import { acknowledge, applyReply, collect, initPeripheral, send, type PeripheralEndpoint } from '../exchange/peripheral.js';
import { closeAbandonedRuns, insertRun } from '../state/runs.js';
import type { AppliedPacket, BeginExchangeInput, BeginExchangeOutput, CollectedPacket, RoundRef, SentPacket } from '../workflows/exchange-contracts.js';
import { exchangeRunName } from '../workflows/ids.js';
import type { ActivityDeps } from './deps.js';
import { heartbeating } from './heartbeat.js';

/**
 * The exchange workflow's steps for one peripheral node (see
 * src/exchange/peripheral.ts): each is idempotent, so Temporal's retries are
 * safe — collect finds the packet it built for the round, a re-sent packet is
 * acknowledged and not applied again by the central node, and a reply is
 * applied once, in one transaction.
 */
export function exchangeActivities({ db, exchange }: ActivityDeps) {
  const endpoint = (node: string): PeripheralEndpoint => {
    if (!exchange) throw new ExchangeConfigurationError('this worker has no exchange configured', 'add exchange: { plan, peripherals } to ferry.config.ts');
    return exchange.peripheral(node);
  };
  return {
    /** Opens the run row, sets the node's database up (first time: identity from the central node) and says whether this is its initial load. */
    beginExchange: (input: BeginExchangeInput): Promise<BeginExchangeOutput> =>
      heartbeating(async () => {
        const name = exchangeRunName(input.node);
        await closeAbandonedRuns(db, name, input.runId);
        const node = endpoint(input.node);
        const before = await node.pool
          .query<{ received_packet_no: string }>('select received_packet_no from ferry_exchange_nodes where is_central and not is_self')
          .then((r) => r.rows[0], () => undefined);
        const mode = !before || before.received_packet_no === '0' ? 'full' : 'incremental';
        await insertRun(db, { id: input.runId, stream: name, workflowId: input.workflowId, mode, startedAt: new Date(input.startedAt) });
        await initPeripheral(node);
        return { mode, maxRounds: exchange!.maxRounds };
      }),
    collectExchange: (input: RoundRef): Promise<CollectedPacket> => heartbeating(() => collect(endpoint(input.node), { runId: input.runId, round: input.round })),
    sendExchange: (input: { node: string; packetNo: number }): Promise<SentPacket> => heartbeating(() => send(endpoint(input.node), input.packetNo)),
    acknowledgeExchange: (input: { node: string; ack: number }): Promise<{ dropped: number }> =>
      heartbeating(async () => ({ dropped: await acknowledge(endpoint(input.node), input.ack) })),
    applyExchange: (input: { node: string; packetNo: number }): Promise<AppliedPacket> => heartbeating(() => applyReply(endpoint(input.node), input.packetNo)),
  };
}
