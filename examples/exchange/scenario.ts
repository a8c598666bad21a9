// The exchange example, end to end: a central (web) database and two desktop databases on
// the local Postgres, daily reports with lines, estimates and works edited on all three —
// some edits conflicting — exchanged over HTTP until quiet, then every table compared.
// Exits 0 only if the three databases hold identical rows.
//
//   npm run example exchange                      (example.ts; FERRY_EXAMPLE_KEEP=1 leaves the databases
//                                                  for ferry exchange status / conflicts)
//
// The exchanges here call the protocol steps directly; `ferry exchange run <node>` runs the
// same steps as a Temporal workflow (see ferry.config.ts beside this file).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { survivesCutConnections } from '../../src/connectors/postgres/pool.js';
import { addNode } from '../../src/exchange/nodes.js';
import { exchangeRounds, initPeripheral, type PeripheralEndpoint } from '../../src/exchange/peripheral.js';
import { installExchange } from '../../src/exchange/schema.js';
import { startExchangeServer } from '../../src/exchange/server.js';
import { listConflicts } from '../../src/exchange/status.js';
import { EXCHANGED_TABLES, fieldReports, TABLES_SQL } from './plan.js';

const base = process.env.FERRY_EXAMPLE_PG ?? 'postgres://postgres@127.0.0.1:5432';
const names = { central: 'ferry_example_central', desk1: 'ferry_example_desk1', desk2: 'ferry_example_desk2' } as const;

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${base}/postgres` });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

async function snapshot(pool: pg.Pool): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const c = await pool.connect();
  try {
    await c.query(`set timezone = 'UTC'`);
    for (const t of EXCHANGED_TABLES) out[t] = (await c.query<{ j: string }>(`select coalesce(jsonb_agg(to_jsonb(t) - 'id' order by t.uuid), '[]')::text as j from ${t} t`)).rows[0]!.j;
  } finally {
    c.release();
  }
  return out;
}

export interface ScenarioOutput {
  say(line: string): void;
  check(label: string, ok: boolean, detail?: string): void;
}

/** Builds the three databases, edits and exchanges, and checks that they end identical. */
export async function exchangeScenario({ say, check }: ScenarioOutput, keep = process.env.FERRY_EXAMPLE_KEEP === '1'): Promise<void> {
  await admin(async (c) => {
    for (const db of Object.values(names)) {
      await c.query(`drop database if exists ${db} with (force)`);
      await c.query(`create database ${db}`);
    }
  });
  const pools = Object.fromEntries(Object.entries(names).map(([k, db]) => [k, survivesCutConnections(new pg.Pool({ connectionString: `${base}/${db}`, max: 4 }))])) as Record<keyof typeof names, pg.Pool>;
  const server = { close: async () => undefined, url: '' };
  try {
    for (const pool of Object.values(pools)) await pool.query(TABLES_SQL);

    // The web database already holds the reference data and a few reports.
    const { central, desk1, desk2 } = pools;
    await installExchange(central, fieldReports, { code: 'central', name: 'web', isCentral: true });
    const works = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, uuid] of works.entries()) await central.query('insert into works (uuid, name, unit, price) values ($1, $2, $3, $4)', [uuid, ['excavation', 'paving', 'plastering'][i], ['m3', 'm2', 'm2'][i], [35, 18.5, 9.75][i]]);
    const report = randomUUID();
    await central.query(`insert into daily_reports (uuid, report_date, brigade, hours) values ($1, '2026-12-01', 'north', 8)`, [report]);
    await central.query('insert into daily_report_lines (uuid, report_uuid, work_uuid, quantity) values ($1, $2, $3, 12.5)', [randomUUID(), report, works[0]]);
    const estimate = randomUUID();
    await central.query(`insert into estimates (uuid, title, amount) values ($1, 'school roof', 125000.00)`, [estimate]);

    const started = await startExchangeServer({ pool: central, plan: fieldReports });
    Object.assign(server, started);
    const desks: Record<'desk1' | 'desk2', PeripheralEndpoint> = { desk1: undefined!, desk2: undefined! };
    for (const code of ['desk1', 'desk2'] as const) {
      const { token } = await addNode(central, fieldReports, { code, name: `desktop ${code}` });
      desks[code] = { code, pool: pools[code], plan: fieldReports, centralUrl: started.url, token };
      await initPeripheral(desks[code]);
      const first = await exchangeRounds(desks[code]);
      say(`${code}: initial load of ${first.received} entities`);
    }

    // Edits everywhere, offline: new reports on each desktop, the same report and estimate edited on several nodes.
    for (const [code, pool] of [['desk1', desk1], ['desk2', desk2]] as const) {
      const mine = randomUUID();
      await pool.query(`insert into daily_reports (uuid, report_date, brigade, note) values ($1, '2026-12-02', $2, 'from the field')`, [mine, `${code} brigade`]);
      await pool.query('insert into daily_report_lines (uuid, report_uuid, work_uuid, quantity) values ($1, $2, $3, 4), ($4, $2, $5, 7.25)', [randomUUID(), mine, works[1], randomUUID(), works[2]]);
    }
    await desk1.query(`update daily_reports set note = 'rain in the afternoon', hours = 6 where uuid = $1`, [report]);
    await central.query(`update daily_reports set note = 'approved' where uuid = $1`, [report]); // conflict: central wins
    await desk2.query(`insert into daily_report_lines (uuid, report_uuid, work_uuid, quantity) values ($1, $2, $3, 3)`, [randomUUID(), report, works[1]]);
    await central.query(`update estimates set amount = 131000.00 where uuid = $1`, [estimate]);
    await desk2.query(`update estimates set status = 'sent', amount = 129500.00 where uuid = $1`, [estimate]); // later: last writer wins
    await desk1.query(`update works set price = 19.25 where uuid = $1`, [works[1]]);
    await central.query(`update works set unit = 'm2 (laid)' where uuid = $1`, [works[1]]); // merged column by column
    await desk2.query(`update works set is_deleted = true where uuid = $1`, [works[2]]);
    await central.query(`update works set price = 10.5 where uuid = $1`, [works[2]]); // delete against edit: a conflict (merge falls back to central)

    for (const code of ['desk1', 'desk2', 'desk1', 'desk2'] as const) {
      const s = await exchangeRounds(desks[code]);
      say(`${code}: sent ${s.sent}, received ${s.received} in ${s.rounds} rounds, ${s.stats.conflicts} conflicts here`);
    }

    const [c, d1, d2] = await Promise.all([snapshot(central), snapshot(desk1), snapshot(desk2)]);
    for (const t of EXCHANGED_TABLES) {
      const rows = JSON.parse(c[t]!).length;
      check(`${t} identical on the three nodes (${rows} rows)`, c[t] === d1[t] && c[t] === d2[t]);
    }
    let conflicts = 0;
    for (const [code, pool] of Object.entries(pools)) {
      for (const x of await listConflicts(pool, { limit: 100 })) {
        conflicts += 1;
        say(`conflict on ${code}: ${x.entityType} ${x.entityUuid} from ${x.peer}: ${x.kind}, ${x.policy} -> ${x.winner}`);
      }
    }
    check('every provoked conflict (edit against edit, delete against edit) is in the conflict log', conflicts >= 4, `${conflicts} logged`);
  } finally {
    await server.close();
    await Promise.allSettled(Object.values(pools).map((p) => p.end()));
    if (!keep) {
      await admin(async (c) => {
        for (const db of Object.values(names)) await c.query(`drop database if exists ${db} with (force)`);
      });
    }
  }
}
