import pg from 'pg';

/** Demo tables: a CRM's customers (source) and the app's copy (target). */
export async function createDemoTables(client: pg.ClientBase, rows: number): Promise<void> {
  await client.query(`
    drop table if exists demo_crm_customers, demo_app_customers;
    create table demo_crm_customers (
      id bigint primary key,
      email text,
      full_name text not null,
      country text not null,
      balance numeric(12,2) not null,
      updated_at timestamptz not null default clock_timestamp()
    );
    create index on demo_crm_customers (updated_at, id);
    create table demo_app_customers (
      id bigserial primary key,
      crm_id bigint not null unique,
      email text not null,
      first_name text not null,
      last_name text not null,
      country char(2) not null,
      balance numeric(12,2) not null,
      source_updated_at timestamptz not null
    );`);
  await client.query(
    `insert into demo_crm_customers (id, email, full_name, country, balance, updated_at)
     select g, 'customer' || g || '@example.com', 'Customer ' || g || ' Demo', (array['DE','RU','FR','PL','LT'])[1 + g % 5],
            round((random() * 5000)::numeric, 2),
            -- one row every 10 seconds, the newest an hour ago: 100k rows span ~12 days, so an
            -- incremental run's 1-minute look-back re-reads a handful of rows, not the table
            now() - interval '1 hour' - ($1::int - g) * interval '10 seconds'
     from generate_series(1, $1::int) g`,
    [rows],
  );
}
