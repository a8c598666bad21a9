import { connect, type JsMsg, type NatsConnection } from 'nats';

export const NATS_URL = process.env.FERRY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface StoredMessage {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  /** the body as text */
  body: string;
}

/** A connection for arranging and reading back; the JetStream streams it names are deleted on close. */
export async function natsTestClient() {
  const nc: NatsConnection = await connect({ servers: NATS_URL, name: 'ferry-test' });
  const jsm = await nc.jetstreamManager();
  const created = new Set<string>();
  return {
    nc,
    jsm,
    /** a JetStream stream name for this test (deleted on close) */
    streamName(base: string): string {
      const name = `${base}_${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
      created.add(name);
      return name;
    },
    /** every message the JetStream stream holds, in order, read by an ordered consumer */
    async messages(stream: string): Promise<StoredMessage[]> {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      const total = info?.state.messages ?? 0;
      if (total === 0) return [];
      const consumer = await nc.jetstream().consumers.get(stream);
      const out: StoredMessage[] = [];
      while (out.length < total) {
        const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 5000 });
        let got = 0;
        for await (const m of batch as AsyncIterable<JsMsg>) {
          got += 1;
          const headers: Record<string, string> = {};
          for (const [k] of m.headers ?? []) headers[k] = m.headers?.get(k) ?? '';
          out.push({ seq: m.seq, subject: m.subject, headers, body: m.string() });
        }
        if (got === 0) throw new Error(`read ${out.length} of ${total} messages of ${stream}: no more arrived`);
      }
      return out;
    },
    async close() {
      for (const name of created) await jsm.streams.delete(name).catch(() => false);
      await nc.drain();
    },
  };
}

export type NatsTestClient = Awaited<ReturnType<typeof natsTestClient>>;
