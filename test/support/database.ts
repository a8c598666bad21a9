import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { survivesCutConnections } from '../../src/connectors/postgres/pool.js';

const ADMIN_URL = process.env.FERRY_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** a pool on the test database, for arranging and asserting */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own for one test file; drop() removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `ferry_test_${label.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // pool.end() resolves before its idle clients have finished closing; the forced drop
  // below can cut one mid-close, and an unheard 'error' would crash the test process.
  survivesCutConnections(pool);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
