// An exchange plan in a ferry config: the central node's database, and the desktops this
// installation runs exchanges for (tokens come from the environment, never from this file).
//
//   FERRY_CONFIG=examples/exchange/ferry.config.ts npx ferry nodes add desk1      # prints desk1's token
//   FERRY_CONFIG=examples/exchange/ferry.config.ts npx ferry exchange serve       # the central endpoint
//   FERRY_CONFIG=examples/exchange/ferry.config.ts npm run worker                 # runs exchange workflows
//   FERRY_TOKEN_DESK1=… FERRY_CONFIG=examples/exchange/ferry.config.ts npx ferry exchange run desk1 --wait
//   FERRY_CONFIG=examples/exchange/ferry.config.ts npx ferry exchange status
//   FERRY_CONFIG=examples/exchange/ferry.config.ts npx ferry exchange conflicts
import { defineConfig } from '../../src/config/load-config.js';
import { fieldReports } from './plan.js';

const base = process.env.FERRY_EXAMPLE_PG ?? 'postgres://postgres@127.0.0.1:5432';
const centralUrl = process.env.FERRY_EXCHANGE_URL ?? 'http://127.0.0.1:8480';

export default defineConfig({
  streams: [],
  exchange: {
    plan: fieldReports,
    central: { databaseUrl: `${base}/ferry_example_central`, port: 8480 },
    peripherals: [
      { code: 'desk1', databaseUrl: `${base}/ferry_example_desk1`, centralUrl, tokenEnv: 'FERRY_TOKEN_DESK1' },
      { code: 'desk2', databaseUrl: `${base}/ferry_example_desk2`, centralUrl, tokenEnv: 'FERRY_TOKEN_DESK2' },
    ],
  },
});
