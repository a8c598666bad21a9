// Site ⇄ 1C customers (story 3.2.3) as a linked stream pair (ferry.config.ts declares it;
// docs/pairs.md explains links, conflicts and write-back):
//   export  <pair>.site.users->1c  the site's users flagged for export and not made in 1C
//           (the source filter), paged by updated_at, "changed" by a hash of the story's
//           significant fields (a login that moves updated_at exports nothing); sent to 1C's
//           exchange service in packets of 50; 1C upserts each by the site's id
//           (ИдентификаторНаСайте), so a retried packet creates nothing twice. After each
//           packet the row is written back: onec_id, sync_status, needs_1c_export = false,
//           last_sync_at, and sync_error_message (1C's error on a refusal, cleared on success).
//           Every 5 minutes, and at once on exportNow() after a registration.
//   import  <pair>.1c->site.users  the changes 1C registered for the site's node (what
//           managers did), paged by token, incremental by the change time; into users by the
//           pair's link (Ref_Key <-> users.id; onec_id for a customer made in 1C).
// The pair shares one link per customer, so neither stream sends back what the other wrote,
// and a customer edited on both sides since the last sync is a conflict: field-level merge,
// 1C winning the fields changed on both sides (the story: managers' word is final), logged
// in ferry_conflicts (`ferry conflicts list`).
import { defineStream, httpSource, httpTarget, postgresSource, postgresTarget, type RetryPolicy } from '../../src/index.js';
import type { StreamDefinition } from '../../src/config/define-stream.js';
import { onecToSiteUser } from './mapping/onec-to-site.js';
import { siteUserToOnec } from './mapping/site-to-onec.js';
import { siteUserSchema } from './mapping/site-user.js';
import { onecChangeSchema } from './onec/shape.js';

export interface CustomerStreamsOptions {
  /** the site's Postgres (its users table) */
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

/** The story's significant fields, in the site's columns: a change of anything else (last_login, updated_at) exports nothing. */
export const SITE_SIGNIFICANT = ['email', 'phone', 'first_name', 'last_name', 'company_name', 'tax_id', 'role'] as const;
/** The same, as 1C holds them (the import's version): names and company in Description/КонтактноеЛицо, e-mail and phone in the contact rows. */
export const ONEC_SIGNIFICANT = ['Description', 'ЮридическоеФизическоеЛицо', 'КонтактноеЛицо', 'ИНН', 'КатегорияКлиента', 'КонтактнаяИнформация'] as const;
/** What the site's row says after each export (docs/pairs.md, Write-back); sync_error_message is not null on the site: '' clears it. */
const WRITE_BACK = {
  onSuccess: { onec_id: { from: 'targetId' }, sync_status: 'synced', needs_1c_export: false, last_sync_at: { from: 'now' }, sync_error_message: '' },
  onFailure: { sync_status: 'error', sync_error_message: { from: 'error' }, last_sync_at: { from: 'now' } },
} as const;

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
    source: postgresSource({
      url: o.siteUrl,
      table: 'users',
      system: 'site',
      cursor: { column: 'updated_at', kind: 'timestamp' },
      lookBack: '1 minute',
      // what the site flagged (a profile change, a registration), never a customer 1C made
      where: 'needs_1c_export and not created_in_1c',
    }),
    schema: siteUserSchema,
    map: (user) => ({ kind: 'Catalog_Контрагенты', fields: siteUserToOnec(user) }),
    target: httpTarget({
      ...onec,
      system: '1c',
      // one customer at a time, where a packet is not wanted: PUT upserts by the site's id too
      create: { path: 'hs/site/customers/{key}', method: 'PUT', idPath: 'Ref_Key' },
      update: { path: 'hs/site/customers/{key}', method: 'PUT' },
      batch: { path: 'hs/site/customers/batch', limit: PACKET, itemsField: 'items', idField: 'Ref_Key', resultsPath: 'results', idPath: 'Ref_Key', statusPath: 'status', errorPath: 'error' },
      // 1C has no idempotency-key support: the site's id in the counterparty is what makes a retry safe
      idempotencyHeader: false,
    }),
    key: 'id',
    version: { fields: SITE_SIGNIFICANT },
    writeBack: WRITE_BACK,
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
      // one counterparty by its Ref_Key (OData): the export's conflict check reads 1C's side with it
      readOne: { path: ([ref]) => `odata/standard.odata/Catalog_Контрагенты(guid'${ref}')?$format=json` },
    }),
    schema: onecChangeSchema,
    map: (change) => ({ kind: 'users', fields: onecToSiteUser(change) }),
    // a linked customer is updated by its link (users.id); a customer made in 1C is created, keyed by onec_id
    target: postgresTarget({ url: o.siteUrl, table: 'users', key: 'onec_id', idColumn: 'id', system: 'site' }),
    key: 'Ref_Key',
    // not DataVersion: it changes on the site's own writes too, and echoes could not be told
    version: { fields: ONEC_SIGNIFICANT },
    // both sides changed since the last sync: fields changed on one side come from it, 1C wins the rest
    conflicts: { merge: 'source-wins' },
    batchSize: 200,
    schedule: { every: '5 minutes' },
    ...tuning,
  });
  return { exportStream, importStream };
}
