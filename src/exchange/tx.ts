import type pg from 'pg';

/**
 * Runs `work` in one transaction on a node's database, with the session in
 * UTC so that every node renders timestamps (updated_at above all) the same.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    // JIT compiling the serializer's queries costs more than it saves at packet sizes
    await client.query(`set local timezone = 'UTC'; set local jit = off`);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
