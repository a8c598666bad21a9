// The exchange plan of the example: daily reports with nested lines, estimates and works,
// kept identical between a web (central) database and desktop (peripheral) databases.
import { defineExchange } from '../../src/index.js';

export const fieldReports = defineExchange({
  name: 'field-reports',
  schemaVersion: '1.0.0',
  packetSize: 1000,
  entities: {
    DailyReport: {
      table: 'daily_reports',
      columns: ['report_date', 'brigade', 'note', 'hours'],
      lines: { lines: { table: 'daily_report_lines', parent: 'report_uuid', columns: ['work_uuid', 'quantity'] } },
      conflict: 'central-wins', // the design's rule, and 1C's
    },
    Estimate: { table: 'estimates', columns: ['title', 'amount', 'status'], conflict: 'last-writer-wins' },
    Work: { table: 'works', columns: ['name', 'unit', 'price'], conflict: 'merge' },
  },
});

/** The business tables, the same in every node's database (local serial ids are not exchanged). */
export const TABLES_SQL = `
  create table if not exists works (
    uuid uuid primary key, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    name text not null, unit text not null, price numeric(12,2));
  create table if not exists estimates (
    uuid uuid primary key, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    title text not null, amount numeric(16,2), status text not null default 'draft');
  create table if not exists daily_reports (
    id bigserial primary key, uuid uuid not null unique, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    report_date date not null, brigade text not null, note text, hours numeric(6,2));
  create table if not exists daily_report_lines (
    id bigserial primary key, uuid uuid not null unique, updated_at timestamptz not null default now(), is_deleted boolean not null default false,
    report_uuid uuid not null references daily_reports (uuid), work_uuid uuid, quantity numeric(14,3));
`;

export const EXCHANGED_TABLES = ['works', 'estimates', 'daily_reports', 'daily_report_lines'] as const;
