// npm run example exchange: a central (web) database and two desktop databases exchange daily
// reports, estimates and works edited on all three, some conflicting, and end identical.
import { defineExample } from '../support/define-example.js';
import { exchangeScenario } from './scenario.js';

export default defineExample({
  description: 'exchange plans: a central and two desktop databases, conflicting edits, converging to identical tables',
  config: 'ferry.config.ts',
  run: ({ say, check }) => exchangeScenario({ say, check }),
});
