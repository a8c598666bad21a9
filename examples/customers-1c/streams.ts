// Site ⇄ 1C customers (story 3.2.3) as a ferry stream pair (ferry.config.ts declares it):
//   export  <pair>.site.users->1c  the site's users (users_to_1c: flagged, not made in 1C),
//           incremental by updated_at, sent to 1C's exchange service in packets of 50; 1C
//           upserts each by the site's id (ИдентификаторНаСайте), so a retried packet creates
//           nothing twice; a customer 1C refuses (a bad ИНН) is a dead letter with 1C's error.
//           Every 5 minutes, so a registration is in 1C well within the story's 15.
//   import  <pair>.1c->site.users  the changes 1C registered for the site's node (what
//           managers did; 1C never registers back what the site sent), paged by token,
//           incremental by the change time; into users by e-mail.
//
// Waiting for the engine's entity links (issue #9, TODO(links)):
//   - write-back into the source row after each export: onec_id, sync_status, needs_1c_export =
//     false, last_sync_at, sync_error_message (today: the id 1C returned is in ferry's binding,
//     the error in the dead letter);
//   - "changed" decided by a hash of the significant fields (a login that touches updated_at
//     exports nothing); today the version is updated_at, and a login re-sends the same data
//     (1C's upsert leaves one counterparty, so it is harmless but not free);
//   - the import keyed by the pair's link (site id <-> Ref_Key) instead of e-mail, echo
//     suppression both ways, and the conflict policy for a customer edited on both sides.
import { defineStream, httpSource, httpTarget, postgresSource, postgresTarget, type RetryPolicy } from '../../src/index.js';
import type { StreamDefinition } from '../../src/config/define-stream.js';
import { onecToSiteUser } from './mapping/onec-to-site.js';
import { siteUserToOnec } from './mapping/site-to-onec.js';
import { siteUserSchema } from './mapping/site-user.js';
import { onecChangeSchema } from './onec/shape.js';

export interface CustomerStreamsOptions {
  /** the site's Postgres (users, users_to_1c) */
  siteUrl: string;
  /** the infobase's publication: 'http://1c.example.local/trade' */
  onecUrl: string;
  /** the environment variable holding base64(user:password) of the 1C user the exchange signs in as */
  onecAuthEnv?: string;
  /** default 'customers'; the streams are '<pair>.site.users->1c' and '<pair>.1c->site.users' */
  pair?: string;
  /** tests: quicker heartbeats (a killed worker is noticed sooner) */
  timeouts?: { activity?: string; heartbeat?: string };
  retry?: RetryPolicy;
}

/** Transient 1C faults (lock timeouts, resets, 429) are retried; a packet is idempotent, so a retry is safe. */
const PATIENT: RetryPolicy = { maximumAttempts: 12, initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' };
const PACKET = 50;

export function customerStreams(o: CustomerStreamsOptions): { exportStream: StreamDefinition; importStream: StreamDefinition } {
  const pair = o.pair ?? 'customers';
  const onec = {
    baseUrl: o.onecUrl,
    secretHeaders: { Authorization: { env: o.onecAuthEnv ?? 'ONEC_BASIC_AUTH', prefix: 'Basic ' } },
    timeout: '10s',
  };
  const tuning = { retry: o.retry ?? PATIENT, ...(o.timeouts ? { timeouts: o.timeouts } : {}) };

  const exportStream = defineStream({
    name: `${pair}.site.users->1c`,
    pair,
    direction: 'export',
    source: postgresSource({ url: o.siteUrl, table: 'users_to_1c', system: 'site', cursor: { column: 'updated_at', kind: 'timestamp' }, lookBack: '1 minute' }),
    schema: siteUserSchema,
    map: (user) => ({ kind: 'Catalog_Контрагенты', fields: siteUserToOnec(user) }),
    target: httpTarget({
      ...onec,
      system: '1c',
      // one customer at a time, where a packet is not wanted: PUT upserts by the site's id too
      create: { path: 'hs/site/customers/{key}', method: 'PUT', idPath: 'Ref_Key' },
      batch: { path: 'hs/site/customers/batch', limit: PACKET, itemsField: 'items', idField: 'Ref_Key', resultsPath: 'results', idPath: 'Ref_Key', statusPath: 'status', errorPath: 'error' },
      // 1C has no idempotency-key support: the site's id in the counterparty is what makes a retry safe
      idempotencyHeader: false,
    }),
    key: 'id',
    batchSize: PACKET,
    schedule: { every: '5 minutes' },
    ...tuning,
  });

  const importStream = defineStream({
    name: `${pair}.1c->site.users`,
    pair,
    direction: 'import',
    source: httpSource({
      ...onec,
      system: '1c',
      path: 'hs/site/changes',
      records: 'items',
      pagination: { type: 'token', path: 'nextPageToken', param: 'pageToken', sizeParam: 'limit' },
      incremental: { param: 'since', field: 'МоментИзменения', lookBack: '1 minute' },
    }),
    schema: onecChangeSchema,
    map: (change) => ({ kind: 'users', fields: onecToSiteUser(change) }),
    // TODO(links): by the pair's link (Ref_Key <-> users.id); e-mail is the one key both sides share today
    target: postgresTarget({ url: o.siteUrl, table: 'users', key: 'email', idColumn: 'id', system: 'site' }),
    key: 'Ref_Key',
    // 1C's own version of the object: a change re-read through the look-back is skipped
    version: 'DataVersion',
    batchSize: 200,
    schedule: { every: '5 minutes' },
    ...tuning,
  });
  return { exportStream, importStream };
}
