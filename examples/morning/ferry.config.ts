// The restaurant's 07:00 sync as a ferry pipeline (tables: examples/morning/tables.ts):
//   1. iiko reference data -> app      (departments, stores, products; upsert + mirror-delete)
//   2. FinTablo -> app                 (13 tables, in parallel)
//   3. stock balances -> app           (full replace)
//   4. the min/max sheet -> app        (cells checked; a bad sheet does not stop the exports)
//   5. app -> the sheets               ("min stock" and "mapping reference", in parallel)
// every day at 07:00 Kaliningrad time; a start missed by up to an hour (server down) is still made.
//
//   FERRY_CONFIG=examples/morning/ferry.config.ts npm run worker
//   FERRY_CONFIG=examples/morning/ferry.config.ts npx ferry pipeline run morning --wait
//   FERRY_CONFIG=examples/morning/ferry.config.ts npx ferry schedule apply
import { z } from 'zod';
import { defineConfig, definePipeline, defineStream, MappingError, postgresSource, postgresTarget } from '../../src/index.js';
import { FINTABLO_TABLES, morningDatabaseUrl } from './tables.js';

const url = morningDatabaseUrl();
const text = z.string().min(1);

/** A copy of one table into another with the same columns: every run a full pass, upsert + mirror-delete (at most half). */
function mirror(name: string, from: string, to: string, schema: z.ZodObject, key: string | string[], system: string) {
  return defineStream({
    name,
    source: postgresSource({ url, table: from, system }),
    schema,
    target: postgresTarget({ url, table: to, key, system: 'app' }),
    key,
    batchSize: 500,
    deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
  });
}

// 1. iiko reference data
const departments = mirror('iiko.departments', 'iiko.departments', 'app.iiko_department', z.object({ id: text, name: text, code: text }), 'id', 'iiko');
const stores = mirror('iiko.stores', 'iiko.stores', 'app.iiko_store', z.object({ id: text, name: text, department_id: text, kind: text }), 'id', 'iiko');
const products = mirror(
  'iiko.products',
  'iiko.products',
  'app.iiko_product',
  z.object({ id: text, num: z.string().regex(/^\d{5}$/), name: text, type: z.enum(['GOODS', 'DISH', 'PREPARED', 'SERVICE']), main_unit: text }),
  'id',
  'iiko',
);

// 2. FinTablo: 13 tables of the same shape
const fintablo = FINTABLO_TABLES.map((t) =>
  defineStream({
    name: `fintablo.${t}`,
    source: postgresSource({ url, table: `fintablo.${t}`, system: 'fintablo', columns: ['id', 'name', 'amount'] }),
    schema: z.object({ id: z.string().regex(/^\d+$/), name: text, amount: z.string().nullable() }),
    target: postgresTarget({ url, table: `app.ft_${t}`, key: 'id', system: 'app' }),
    key: 'id',
    deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
  }),
);

// 3. stock balances: replaced as a whole (what the ERP no longer lists is deleted, no guard)
const stockBalances = defineStream({
  name: 'iiko.stock_balances',
  source: postgresSource({ url, table: 'iiko.stock_balances', system: 'iiko' }),
  schema: z.object({ store_id: text, product_id: text, amount: z.string(), sum: z.string() }),
  target: postgresTarget({ url, table: 'app.stock_balance', key: ['store_id', 'product_id'], system: 'app' }),
  key: ['store_id', 'product_id'],
  batchSize: 500,
  deletes: 'replace',
});

// 4. the min/max sheet: people type into it, so every cell is checked
const quantity = z.string().trim().regex(/^\d+([.,]\d+)?$/, 'must be a number').transform((v) => Number(v.replace(',', '.')));
const minMax = defineStream({
  name: 'gsheet.min_max',
  source: postgresSource({ url, table: 'gsheet.min_max', system: 'gsheet' }),
  schema: z.object({ row_no: z.number().int(), store: text, product_num: z.string().regex(/^\d{5}$/, 'must be a 5-digit product number'), min_qty: quantity, max_qty: quantity }),
  map: (r) => {
    if (r.min_qty > r.max_qty) throw new MappingError(`min ${r.min_qty} is above max ${r.max_qty} (sheet row ${r.row_no})`, 'min_qty');
    return { kind: 'min_stock_level', fields: { store: r.store, product_num: r.product_num, min_qty: r.min_qty, max_qty: r.max_qty } };
  },
  target: postgresTarget({ url, table: 'app.min_stock_level', key: ['store', 'product_num'], system: 'app' }),
  key: ['store', 'product_num'],
  deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
});

// 5. back to the sheets
const minStockSheet = defineStream({
  name: 'sheet.min_stock',
  source: postgresSource({ url, table: 'app.v_min_stock_sheet', system: 'app' }),
  schema: z.object({ product_num: text, name: text, unit: text, min_qty: z.string().nullable(), max_qty: z.string().nullable() }),
  target: postgresTarget({ url, table: 'gsheet.min_stock', key: 'product_num', system: 'gsheet' }),
  key: 'product_num',
  deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
});
const mappingSheet = defineStream({
  name: 'sheet.mapping_ref',
  source: postgresSource({ url, table: 'app.v_goods_display_names', system: 'app' }),
  schema: z.object({ product_id: text, product_num: text, display_name: text }),
  target: postgresTarget({ url, table: 'gsheet.mapping_ref', key: 'product_id', system: 'gsheet' }),
  key: 'product_id',
  deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
});

export const morning = definePipeline({
  name: 'morning',
  steps: [
    { name: 'iiko reference data', streams: [departments, stores, products] },
    { name: 'FinTablo (13 tables)', streams: fintablo },
    { name: 'stock balances (full replace)', streams: stockBalances },
    { name: 'min/max from the sheet', streams: minMax, onFailure: 'continue' },
    { name: 'exports to the sheets', streams: [minStockSheet, mappingSheet] },
  ],
  schedule: { cron: '0 7 * * *', timezone: 'Europe/Kaliningrad', catchupWindow: '1h' },
});

export default defineConfig({
  streams: [departments, stores, products, ...fintablo, stockBalances, minMax, minStockSheet, mappingSheet],
  pipelines: [morning],
});
