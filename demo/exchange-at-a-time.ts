// PGlite for pglite-socket: one PostgreSQL session that several client
// connections share without stepping on each other's exchanges.
import { PGlite } from '@electric-sql/pglite';

const READY_FOR_QUERY = 0x5a; // 'Z': the backend waits for the next exchange; its body is the transaction status
const IDLE = 0x49; // 'I': not in a transaction block ('T': in one, 'E': in a failed one)
const TERMINATE = 0x58; // 'X': the client leaves; no reply, no exchange

/**
 * Which backend message the output of one frontend message ends with, and the
 * status byte when that message is a ReadyForQuery. Backend messages are a type
 * byte, an int32 length (counting itself) and a body; chunks may cut anywhere.
 */
class LastBackendMessage {
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;
  private type = 0;
  private lastByte = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        i += n;
        this.bodyLeft -= n;
        this.lastByte = chunk[i - 1] ?? 0;
        continue;
      }
      this.header[this.headerBytes++] = chunk[i++] ?? 0;
      if (this.headerBytes === 5) {
        this.type = this.header[0] ?? 0;
        this.bodyLeft = this.header.readInt32BE(1) - 4;
        this.headerBytes = 0;
      }
    }
  }

  /** The transaction status when the output ended with a whole ReadyForQuery, else undefined. */
  readyStatus(): number | undefined {
    return this.type === READY_FOR_QUERY && this.bodyLeft === 0 && this.headerBytes === 0 ? this.lastByte : undefined;
  }
}

/**
 * PGlite as the socket server should see it: busy from the first message of an
 * exchange until the ReadyForQuery that leaves the session idle.
 *
 * pglite-socket 0.2.17 queues the connections' messages one protocol message at
 * a time and, only while `isInTransaction()` is true, takes the next message
 * from the connection that sent the last one. PGlite's own `isInTransaction()`
 * is true inside BEGIN … COMMIT only, not during an extended-protocol exchange
 * (Parse, Bind, Describe, Execute, Sync) outside one. So when a client's big
 * Bind (a staged batch of 5,000 rows) arrived in several TCP reads, another
 * connection's whole Parse…Sync ran between its Parse and its Bind, replaced
 * the session's one unnamed statement, and the Bind failed with
 * `bind message supplies 6 parameters, but prepared statement "" requires 3`
 * (08P01); a COPY or a statement split across reads could mix the same way.
 *
 * Reporting "in transaction" from any message until a ReadyForQuery with status
 * idle (the protocol's own end of an exchange) makes the server keep a
 * connection's whole exchange, or whole transaction, together. It cannot
 * deadlock ferry: no code waits on one connection for another while holding a
 * transaction or sending half an exchange (every transaction uses only its own
 * connection), and a connection that drops while holding the session is rolled
 * back by the server, which then serves the others again.
 */
export class ExchangeAtATimePGlite extends PGlite {
  private heldByExchange = false;

  override isInTransaction(): boolean {
    return this.heldByExchange;
  }

  override async execProtocolRawStream(
    message: Uint8Array,
    options: Parameters<PGlite['execProtocolRawStream']>[1],
  ): Promise<void> {
    // A Terminate ends nothing and starts nothing (and gets no ReadyForQuery back).
    if (message[0] !== TERMINATE) this.heldByExchange = true;
    const last = new LastBackendMessage();
    try {
      await super.execProtocolRawStream(message, {
        ...options,
        onRawData: (data) => {
          last.push(data);
          options?.onRawData(data);
        },
      });
    } finally {
      const status = last.readyStatus();
      if (status !== undefined) this.heldByExchange = status !== IDLE;
    }
  }
}
