// npm run example morning: the restaurant's 07:00 pipeline, run twice through the CLI,
// with the day's changes in between (see ferry.config.ts for the five steps).
import { defineExample } from '../support/define-example.js';
import { createMorningTables, FINTABLO_TABLES } from './tables.js';

export default defineExample({
  description: "the restaurant's 07:00 pipeline: reference data, 13 finance tables, stock replace, a sheet with bad rows, exports",
  config: 'ferry.config.ts',
  databaseEnv: ['MORNING_DATABASE_URL'],
  async run({ db, ferry, check, same, say }) {
    const client = await db.connect();
    try {
      await createMorningTables(client);
    } finally {
      client.release();
    }
    const count = async (table: string): Promise<number> => (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]?.n ?? -1;

    say('morning 1: everything from scratch');
    check('the pipeline succeeds', (await ferry('pipeline', 'run', 'morning', '--wait')) === 0);
    await same('iiko departments mirrored', 'table iiko.departments', 'table app.iiko_department');
    await same('iiko stores mirrored', 'table iiko.stores', 'table app.iiko_store');
    await same('iiko products mirrored', 'table iiko.products', 'table app.iiko_product');
    for (const t of FINTABLO_TABLES) await same(`FinTablo ${t} copied`, `select id, name, amount from fintablo.${t}`, `table app.ft_${t}`);
    await same('stock balances replaced', 'table iiko.stock_balances', 'table app.stock_balance');
    const sheetRows = await count('gsheet.min_max');
    check('the min/max sheet is in, but for its two bad rows', (await count('app.min_stock_level')) === sheetRows - 2);
    const letters = await db.query<{ stage: string }>(`select stage from ferry_dead_letters where stream = 'gsheet.min_max' order by stage`);
    check('the two bad rows are dead letters (one invalid, one refused by the mapper)', letters.rows.map((r) => r.stage).join() === 'map,validate');
    check('the two exports wrote one row per good', (await count('gsheet.min_stock')) === 40 && (await count('gsheet.mapping_ref')) === 40);

    say('morning 2: a store emptied, a product renamed, one removed');
    await db.query(`
      delete from iiko.stock_balances where store_id = 'd1-s1';
      update iiko.products set name = 'Мука высший сорт' where id = 'p10';
      delete from iiko.products where id = 'p60';`);
    check('the pipeline succeeds again', (await ferry('pipeline', 'run', 'morning', '--wait')) === 0);
    await same('stock balances replaced again', 'table iiko.stock_balances', 'table app.stock_balance');
    await same('products mirrored, the removed one deleted', 'table iiko.products', 'table app.iiko_product');
    check('two pipeline runs are logged', (await count('ferry_pipeline_runs')) === 2);
  },
});
