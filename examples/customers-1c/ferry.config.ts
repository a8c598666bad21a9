// Site ⇄ 1C customers (story 3.2.3): the stream pair "customers" (streams.ts).
//   ferry run customers --direction export | import | both
//   npm run example customers-1c
// Environment: CUSTOMERS_1C_DATABASE_URL (the site's Postgres), ONEC_URL (the infobase's
// publication, e.g. http://1c.example.local/trade), ONEC_BASIC_AUTH (base64 of user:password
// of the 1C user the exchange signs in as: a secret, read at request time, never stored).
import { defineConfig } from '../../src/index.js';
import { siteDatabaseUrl } from './site.js';
import { customerStreams } from './streams.js';

const { exportStream, importStream } = customerStreams({ siteUrl: siteDatabaseUrl(), onecUrl: process.env.ONEC_URL ?? 'http://127.0.0.1:8080/trade' });

export default defineConfig({ streams: [exportStream, importStream] });
