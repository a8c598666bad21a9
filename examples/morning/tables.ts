// The morning example's world, in one PostgreSQL database, one schema per system:
//   iiko      the restaurant ERP: departments, stores, products, stock balances
//   fintablo  the finance service: 13 tables
//   gsheet    the Google Sheets: the min/max sheet people edit, and the two sheets ferry fills
//   app       the restaurant's own database, which the morning pipeline keeps up to date
// Run it to (re)create the tables with sample data:
//   npx tsx examples/morning/tables.ts            (MORNING_DATABASE_URL, default .../ferry_morning)
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureDatabase } from '../support/ensure-database.js';

export const DEFAULT_MORNING_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ferry_morning';

export function morningDatabaseUrl(): string {
  return process.env.MORNING_DATABASE_URL ?? DEFAULT_MORNING_DATABASE_URL;
}

/** The 13 FinTablo tables: fintablo.<name> is copied to app.ft_<name>. */
export const FINTABLO_TABLES = [
  'category',
  'moneybag',
  'partner',
  'direction',
  'goods',
  'deal',
  'transaction',
  'obligation',
  'obligation_status',
  'job',
  'employee',
  'pnl_category',
  'budget',
] as const;

const DEPARTMENTS = [
  ['d1', 'Ресторан «Балтика»', 'BLT'],
  ['d2', 'Кафе «Янтарь»', 'YNT'],
  ['d3', 'Бар «Маяк»', 'MYK'],
];
const STORE_KINDS = ['Кухня', 'Бар', 'Хоз. товары'];

/** Creates (or re-creates) every schema and table of the example, with sample data. */
export async function createMorningTables(client: pg.ClientBase): Promise<void> {
  await client.query(`
    drop schema if exists iiko, fintablo, gsheet, app cascade;
    create schema iiko; create schema fintablo; create schema gsheet; create schema app;

    -- iiko (source)
    create table iiko.departments (id text primary key, name text not null, code text not null);
    create table iiko.stores (id text primary key, name text not null, department_id text not null, kind text not null);
    create table iiko.products (id text primary key, num text not null unique, name text not null, type text not null, main_unit text not null);
    create table iiko.stock_balances (store_id text not null, product_id text not null, amount numeric(14,3) not null, sum numeric(14,2) not null,
                                      primary key (store_id, product_id));

    -- the restaurant's database (target)
    create table app.iiko_department (id text primary key, name text not null, code text not null);
    create table app.iiko_store (id text primary key, name text not null, department_id text not null, kind text not null);
    create table app.iiko_product (id text primary key, num text not null, name text not null, type text not null, main_unit text not null);
    create table app.stock_balance (store_id text not null, product_id text not null, amount numeric(14,3) not null, sum numeric(14,2) not null,
                                    primary key (store_id, product_id));
    create table app.min_stock_level (store text not null, product_num text not null, min_qty numeric(14,3) not null, max_qty numeric(14,3) not null,
                                      primary key (store, product_num));

    -- the sheets: the one people fill in (cells are text), and the two ferry writes back
    create table gsheet.min_max (row_no integer primary key, store text, product_num text, min_qty text, max_qty text);
    create table gsheet.min_stock (product_num text primary key, name text not null, unit text not null, min_qty numeric(14,3), max_qty numeric(14,3));
    create table gsheet.mapping_ref (product_id text primary key, product_num text not null, display_name text not null);

    -- what the exports read: views over the restaurant's database
    create view app.v_min_stock_sheet as
      select p.num as product_num, p.name, p.main_unit as unit, sum(m.min_qty) as min_qty, sum(m.max_qty) as max_qty
      from app.iiko_product p left join app.min_stock_level m on m.product_num = p.num
      where p.type = 'GOODS' group by p.num, p.name, p.main_unit;
    create view app.v_goods_display_names as
      select id as product_id, num as product_num, name || ', ' || main_unit as display_name from app.iiko_product where type = 'GOODS';
  `);
  for (const t of FINTABLO_TABLES) {
    await client.query(`
      create table fintablo.${t} (id bigint primary key, name text not null, amount numeric(14,2), updated_at timestamptz not null default now());
      create table app.ft_${t} (id bigint primary key, name text not null, amount numeric(14,2));
      insert into fintablo.${t} (id, name, amount)
        select g, '${t} ' || g, case when g % 4 = 0 then null else round((g * 1234.5 % 100000)::numeric, 2) end
        from generate_series(1, 10 + length('${t}')) g;`);
  }

  for (const [id, name, code] of DEPARTMENTS) await client.query(`insert into iiko.departments values ($1, $2, $3)`, [id, name, code]);
  await client.query(
    `insert into iiko.stores (id, name, department_id, kind)
     select d.id || '-s' || k.n, k.kind || ' (' || d.code || ')', d.id, k.kind
     from iiko.departments d cross join unnest($1::text[]) with ordinality as k(kind, n)`,
    [STORE_KINDS],
  );
  // 40 goods (what is stocked) and 20 dishes (what is sold)
  await client.query(`
    insert into iiko.products (id, num, name, type, main_unit)
      select 'p' || g, lpad(g::text, 5, '0'),
             (array['Мука','Сахар','Молоко','Масло сливочное','Яйцо','Салфетки','Перчатки','Кофе зерновой','Сливки','Лимон'])[1 + g % 10] || ' №' || g,
             case when g <= 40 then 'GOODS' else 'DISH' end,
             case when g <= 40 then (array['кг','л','шт'])[1 + g % 3] else 'порц' end
      from generate_series(1, 60) g;
    insert into iiko.stock_balances (store_id, product_id, amount, sum)
      select s.id, p.id, (p.num::int * 7 % 50) + 0.5, ((p.num::int * 7 % 50) + 0.5) * 120
      from iiko.stores s join iiko.products p on p.type = 'GOODS' and (p.num::int + length(s.id)) % 3 <> 0;`);
  // the min/max sheet: one row per store and good for the first 12 goods at the kitchens ...
  await client.query(`
    insert into gsheet.min_max (row_no, store, product_num, min_qty, max_qty)
      select row_number() over (order by s.id, p.num), s.name, p.num, (p.num::int % 5 + 1)::text, (p.num::int % 5 + 10)::text
      from iiko.stores s join iiko.products p on p.type = 'GOODS' and p.num::int <= 12
      where s.kind = 'Кухня';`);
  // ... and two rows a person got wrong: they become dead letters, the rest goes through
  await client.query(`
    insert into gsheet.min_max (row_no, store, product_num, min_qty, max_qty) values
      (1001, 'Бар (BLT)', '00013', 'пять', '10'),
      (1002, 'Бар (BLT)', '00014', '20', '5');`);
}

/** Creates the database of MORNING_DATABASE_URL if it is missing, then the tables. */
async function main(): Promise<void> {
  const url = morningDatabaseUrl();
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createMorningTables(client);
  } finally {
    await client.end();
  }
  process.stdout.write(`morning example tables ready in ${url}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
