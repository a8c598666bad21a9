// The MySQL/MariaDB source and target against the shared conformance suites
// (test/conformance/*), on the MariaDB at 127.0.0.1:3306: a DATETIME(6)
// or TIMESTAMP(6) timestamp cursor with microsecond ties, a sequence cursor, a version cursor,
// a snapshot source; a target deleting hard and one deleting soft.
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mysqlSource, type MysqlSourceOptions } from '../src/connectors/mysql/source.js';
import { mysqlTarget } from '../src/connectors/mysql/target.js';
import { registerSourceSuite, type SeedRecord } from './conformance/source-suite.js';
import { registerTargetSuite } from './conformance/target-suite.js';
import { createMysqlDatabase, type MysqlTestDatabase } from './support/mysql-database.js';

let my: MysqlTestDatabase;
before(async () => {
  my = await createMysqlDatabase('my_conformance');
});
after(() => my.drop());

const table = (base: string) => `${base}_${randomBytes(3).toString('hex')}`;

function sourceFactory(cursor: MysqlSourceOptions['cursor'], timeType = 'datetime(6)') {
  return {
    async create() {
      const name = table('conf_src');
      // a tick is a microsecond: equal ticks are equal timestamps (and equal sequence/version values)
      await my.query(`create table ${name} (id bigint primary key, name varchar(100) not null, updated_at ${timeType} not null, seq bigint not null, version int not null, key (updated_at, id), key (seq, id))`);
      const source = mysqlSource({ url: my.url, table: name, system: 'erp', ...(cursor ? { cursor } : {}) });
      return {
        source,
        key: ['id'],
        async seed(records: readonly SeedRecord[]) {
          if (records.length === 0) return;
          await my.query(
            `insert into ${name} (id, name, updated_at, seq, version) values ${records.map(() => `(?, ?, timestamp'2026-01-01 00:00:00' + interval ? microsecond, ?, ?)`).join(', ')}
             on duplicate key update name = values(name), updated_at = values(updated_at), seq = values(seq), version = values(version)`,
            records.flatMap((r) => [r.id, r.name, r.tick, r.tick, r.tick]),
          );
        },
        async close() {
          await source.close();
          await my.query(`drop table if exists ${name}`);
        },
      };
    },
  };
}

registerSourceSuite('mysql, timestamp cursor (DATETIME(6))', sourceFactory({ column: 'updated_at', kind: 'timestamp' }));
registerSourceSuite('mysql, timestamp cursor (TIMESTAMP(6))', sourceFactory({ column: 'updated_at', kind: 'timestamp' }, 'timestamp(6)'));
registerSourceSuite('mysql, sequence cursor', sourceFactory({ column: 'seq', kind: 'sequence' }));
registerSourceSuite('mysql, version cursor', sourceFactory({ column: 'version', kind: 'version' }));
registerSourceSuite('mysql, snapshot (no cursor)', sourceFactory(undefined));

function targetFactory(softDelete: boolean) {
  return {
    async create() {
      const name = table('conf_dst');
      await my.query(
        `create table ${name} (id bigint auto_increment primary key, record_id bigint not null unique, name varchar(100) not null check (name <> 'REJECT ME'), deleted_at datetime(6))`,
      );
      const target = mysqlTarget({ url: my.url, table: name, key: 'record_id', idColumn: 'id', system: 'warehouse', ...(softDelete ? { softDelete: { column: 'deleted_at' } } : {}) });
      return {
        target,
        projection: (id: number, value: string) => ({ kind: 'record', fields: { record_id: id, name: value } }),
        rejectable: (id: number) => ({ kind: 'record', fields: { record_id: id, name: 'REJECT ME' } }),
        async read() {
          const rows = await my.query<{ record_id: string; name: string }>(`select record_id, name from ${name} where deleted_at is null`);
          return new Map(rows.map((r) => [Number(r.record_id), r.name]));
        },
        async close() {
          await target.close();
          await my.query(`drop table if exists ${name}`);
        },
      };
    },
  };
}

registerTargetSuite('mysql, hard delete', targetFactory(false));
registerTargetSuite('mysql, soft delete', targetFactory(true));
