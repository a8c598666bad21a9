// The example pipeline of examples/morning really runs: the restaurant's 07:00
// sync (reference data, 13 finance tables, stock balances replaced, the min/max
// sheet, two exports back), and its schedule is 07:00 in Kaliningrad.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FerryConfig } from '../src/config/load-config.js';
import { StreamRegistry } from '../src/config/load-config.js';
import type { PipelineDefinition } from '../src/config/define-pipeline.js';
import type { StreamDefinition } from '../src/config/define-stream.js';
import { applySchedules } from '../src/schedules/apply.js';
import { scheduleIdOf } from '../src/workflows/ids.js';
import { createHarness, type Harness } from './support/harness.js';
import { pipelineRows, startPipeline } from './support/scheduling.js';

describe('examples/morning', () => {
  let h: Harness;
  let config: FerryConfig;
  let tables: typeof import('../examples/morning/tables.js');

  before(async () => {
    h = await createHarness('morning');
    process.env.MORNING_DATABASE_URL = h.db.url; // read by the example config when it is imported
    tables = await import('../examples/morning/tables.js');
    config = (await import('../examples/morning/ferry.config.js')).default;
    const client = await h.db.pool.connect();
    try {
      await tables.createMorningTables(client);
    } finally {
      client.release();
    }
    await h.startWorker(config.streams as StreamDefinition[], config.pipelines as PipelineDefinition[]);
  });
  after(async () => {
    await h.client.schedule.getHandle(scheduleIdOf('morning')).delete().catch(() => undefined);
    await h.close();
  });

  const count = async (table: string): Promise<number> => (await h.db.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n;
  /** Two queries return the same rows. */
  const same = async (a: string, b: string): Promise<void> => {
    const { rows } = await h.db.pool.query(`select (select count(*) from ((${a}) except (${b})) x)::int + (select count(*) from ((${b}) except (${a})) y)::int as diff`);
    assert.equal(rows[0].diff, 0, `${a} and ${b} differ`);
  };

  it('runs the five steps in order and leaves the systems in sync', async () => {
    const summary = await (await startPipeline(h, 'morning')).result();
    assert.equal(summary.status, 'succeeded', summary.message);
    assert.deepEqual(
      summary.steps.map((s) => [s.name, s.status, s.runs.length]),
      [
        ['iiko reference data', 'succeeded', 3],
        ['FinTablo (13 tables)', 'succeeded', 13],
        ['stock balances (full replace)', 'succeeded', 1],
        ['min/max from the sheet', 'succeeded', 1],
        ['exports to the sheets', 'succeeded', 2],
      ],
    );
    for (let i = 1; i < summary.steps.length; i++) assert.ok(summary.steps[i]!.startedAt! >= summary.steps[i - 1]!.finishedAt!, `step ${i + 1} after step ${i}`);

    await same('table iiko.departments', 'table app.iiko_department');
    await same('table iiko.stores', 'table app.iiko_store');
    await same('table iiko.products', 'table app.iiko_product');
    for (const t of tables.FINTABLO_TABLES) {
      assert.ok((await count(`fintablo.${t}`)) > 0);
      await same(`select id, name, amount from fintablo.${t}`, `table app.ft_${t}`);
    }
    await same('table iiko.stock_balances', 'table app.stock_balance');
    // the sheet's two bad rows are dead letters; the rest is in the database
    assert.equal(await count('app.min_stock_level'), (await count('gsheet.min_max')) - 2);
    const letters = await h.db.pool.query(`select stage, error from ferry_dead_letters where stream = 'gsheet.min_max' order by stage`);
    assert.deepEqual(letters.rows.map((r) => r.stage), ['map', 'validate']);
    assert.match(letters.rows[0].error, /min 20 is above max 5/);
    const minMaxRun = summary.steps[3]!.runs[0]!;
    assert.equal(minMaxRun.counts?.failed, 2);
    // the exports: one row per good in each sheet
    assert.equal(await count('gsheet.min_stock'), 40);
    assert.equal(await count('gsheet.mapping_ref'), 40);
    const sheet = await h.db.pool.query(`select min_qty::text, max_qty::text from gsheet.min_stock where product_num = '00001'`);
    assert.deepEqual(sheet.rows[0], { min_qty: '6.000', max_qty: '33.000' }, 'three kitchens, min 2 and max 11 each');

    const [row] = await pipelineRows(h, 'morning');
    assert.equal(row!.status, 'succeeded');
    assert.equal(row!.steps.flatMap((s) => s.runs).filter((r) => r.runId).length, 20, 'the row names all 20 stream runs');
  });

  it('replaces the stock balances and mirrors the reference data on the next morning', async () => {
    await h.db.pool.query(`
      delete from iiko.stock_balances where store_id = 'd1-s1';
      insert into iiko.stock_balances values ('d2-s2', 'p41', 1, 1) on conflict do nothing;
      update iiko.products set name = 'Мука высший сорт' where id = 'p10';
      delete from iiko.products where id = 'p60';`);
    const summary = await (await startPipeline(h, 'morning')).result();
    assert.equal(summary.status, 'succeeded', summary.message);
    await same('table iiko.stock_balances', 'table app.stock_balance');
    await same('table iiko.products', 'table app.iiko_product');
    const products = summary.steps[0]!.runs.find((r) => r.stream === 'iiko.products')!;
    assert.equal(products.counts?.updated, 1);
    assert.equal(products.counts?.deleted, 1);
    assert.equal((await pipelineRows(h, 'morning')).length, 2);
  });

  it('is scheduled at 07:00 Europe/Kaliningrad with a one-hour catch-up window', async () => {
    const registry = new StreamRegistry(config.streams as StreamDefinition[], config.pipelines as PipelineDefinition[]);
    const results = await applySchedules(h.client, registry, h.settings.taskQueue);
    assert.deepEqual(results.map((r) => [r.scheduleId, r.action]), [['ferry:morning', 'created']]);
    const d = await h.client.schedule.getHandle('ferry:morning').describe();
    assert.equal(d.spec.timezone, 'Europe/Kaliningrad');
    assert.equal(d.policies.catchupWindow, 3_600_000);
    assert.equal(d.policies.overlap, 'SKIP');
    assert.ok(d.info.nextActionTimes.every((t) => t.getUTCHours() === 5 && t.getUTCMinutes() === 0), 'at 05:00 UTC');
    assert.deepEqual((await applySchedules(h.client, registry, h.settings.taskQueue)).map((r) => r.action), ['unchanged']);
  });
});
