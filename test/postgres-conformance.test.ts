// The Postgres source and target against the shared conformance suites
// (test/conformance/*): a timestamp cursor with microsecond ties, a sequence
// cursor, a snapshot source; a target deleting hard and one deleting soft.
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { postgresSource, type PostgresSourceOptions } from '../src/connectors/postgres/source.js';
import { postgresTarget } from '../src/connectors/postgres/target.js';
import { registerSourceSuite, type SeedRecord } from './conformance/source-suite.js';
import { registerTargetSuite } from './conformance/target-suite.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('pg_conformance');
});
after(() => db.drop());

const table = (base: string) => `${base}_${randomBytes(3).toString('hex')}`;

function sourceFactory(cursor: PostgresSourceOptions['cursor']) {
  return {
    async create() {
      const name = table('conf_src');
      // a tick is a microsecond: equal ticks are equal timestamps (and equal sequence values)
      await db.pool.query(`create table ${name} (id bigint primary key, name text not null, updated_at timestamptz not null, seq bigint not null)`);
      const source = postgresSource({ url: db.url, table: name, system: 'crm', ...(cursor ? { cursor } : {}) });
      return {
        source,
        key: ['id'],
        async seed(records: readonly SeedRecord[]) {
          await db.pool.query(
            `insert into ${name} (id, name, updated_at, seq)
             select r.id, r.name, timestamptz '2026-01-01 00:00:00+00' + r.tick * interval '1 microsecond', r.tick
             from json_to_recordset($1::json) as r(id bigint, name text, tick bigint)
             on conflict (id) do update set name = excluded.name, updated_at = excluded.updated_at, seq = excluded.seq`,
            [JSON.stringify(records)],
          );
        },
        async close() {
          await source.close();
          await db.pool.query(`drop table if exists ${name}`);
        },
      };
    },
  };
}

registerSourceSuite('postgres, timestamp cursor', sourceFactory({ column: 'updated_at', kind: 'timestamp' }));
registerSourceSuite('postgres, sequence cursor', sourceFactory({ column: 'seq', kind: 'sequence' }));
registerSourceSuite('postgres, snapshot (no cursor)', sourceFactory(undefined));

function targetFactory(softDelete: boolean) {
  return {
    async create(testDb: TestDatabase) {
      const name = table('conf_dst');
      await testDb.pool.query(
        `create table ${name} (id bigserial primary key, record_id bigint not null unique, name text not null check (name <> 'REJECT ME'), deleted_at timestamptz)`,
      );
      const target = postgresTarget({ url: testDb.url, table: name, key: 'record_id', idColumn: 'id', system: 'app', ...(softDelete ? { softDelete: { column: 'deleted_at' } } : {}) });
      return {
        target,
        projection: (id: number, value: string) => ({ kind: 'record', fields: { record_id: id, name: value } }),
        rejectable: (id: number) => ({ kind: 'record', fields: { record_id: id, name: 'REJECT ME' } }),
        async read() {
          const { rows } = await testDb.pool.query<{ record_id: string; name: string }>(`select record_id, name from ${name} where deleted_at is null`);
          return new Map(rows.map((r) => [Number(r.record_id), r.name]));
        },
        async close() {
          await target.close();
          await testDb.pool.query(`drop table if exists ${name}`);
        },
      };
    },
  };
}

registerTargetSuite('postgres, hard delete', targetFactory(false));
registerTargetSuite('postgres, soft delete', targetFactory(true));
