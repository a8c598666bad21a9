import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

const ADMIN_URL = process.env.FERRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface MysqlTestDatabase {
  name: string;
  /** connection URL of the database, for connectors */
  url: string;
  /** a pool on the database for arranging and asserting, read exactly (strings for BIGINT, DECIMAL, dates; JSON as text) */
  pool: mysql.Pool;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database of its own on the MariaDB/MySQL server (root, no password by default); drop() removes it. */
export async function createMysqlDatabase(label: string): Promise<MysqlTestDatabase> {
  const name = `ferry_test_${label.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const admin = await mysql.createConnection({ uri: ADMIN_URL });
  await admin.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
  await admin.end();
  const url = `${ADMIN_URL.replace(/\/[^/]*$/, '')}/${name}`;
  const pool = mysql.createPool({ uri: url, connectionLimit: 4, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, jsonStrings: true, timezone: 'Z' });
  pool.on('connection', (c) => {
    c.on('error', () => undefined);
    c.query(`set time_zone = '+00:00'`);
  });
  return {
    name,
    url,
    pool,
    async query<T>(text: string, params: unknown[] = []) {
      const [rows] = await pool.query(text, params);
      return rows as T[];
    },
    async drop() {
      await pool.end();
      const a = await mysql.createConnection({ uri: ADMIN_URL });
      await a.query(`drop database if exists \`${name}\``);
      await a.end();
    },
  };
}
