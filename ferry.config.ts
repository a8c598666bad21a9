// The demo's streams (npm run demo). Your own project keeps its streams in a
// file like this one; point FERRY_CONFIG at it.
import { z } from 'zod';
import { defineConfig, defineStream, MappingError, postgresSource, postgresTarget } from './src/index.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ferry';

const customer = z.object({
  id: z.coerce.number().int().positive(),
  email: z.email(),
  full_name: z.string().min(1),
  country: z.string().length(2),
  balance: z.coerce.number(),
  updated_at: z.string(),
});

export const customers = defineStream({
  name: 'demo.customers',
  source: postgresSource({ url, table: 'demo_crm_customers', system: 'crm', cursor: { column: 'updated_at', kind: 'timestamp' }, lookBack: '1 minute' }),
  schema: customer,
  map: (c) => {
    if (c.balance < -1000) throw new MappingError('balance below the credit limit of -1000', 'balance');
    const [first = '', ...rest] = c.full_name.split(' ');
    return {
      kind: 'customer',
      fields: { crm_id: c.id, email: c.email.toLowerCase(), first_name: first, last_name: rest.join(' '), country: c.country.toUpperCase(), balance: c.balance, source_updated_at: c.updated_at },
    };
  },
  target: postgresTarget({ url, table: 'demo_app_customers', key: 'crm_id', idColumn: 'id', system: 'app' }),
  key: 'id',
  batchSize: 5_000,
  deletes: { mode: 'mirror', maxDeleteFraction: 0.5 },
});

export default defineConfig({ streams: [customers] });
