// npm run example customers-1c: story 3.2.3 (site ⇄ 1C customers) against a fake 1C
// (onec/service.ts) that fails on purpose: sign-ups go to 1C exactly once through
// lock timeouts, resets, lost replies and 429s, and each site row says how it went
// (onec_id, sync_status, sync_error_message); a bad ИНН is a dead letter with 1C's
// error; sign-ups made while 1C is down go out when it is back; a login exports
// nothing; managers' edits in 1C come to the site and are not sent back; a customer
// edited on both sides is merged (1C wins the fields both changed) and logged; a
// second run both ways moves nothing; exportNow() sends a registration at once; the
// story's four figures come from `ferry stats`.
import { exportNow } from '../../src/index.js';
import { connectClient, temporalSettings } from '../../src/temporal.js';
import { defineExample, type ExampleContext } from '../support/define-example.js';
import { OnecService } from './onec/service.js';
import type { FaultPlan } from './onec/faults.js';
import type { OnecCustomer } from './onec/shape.js';
import { signUps } from './registrations.js';
import { createSiteTables, editProfile, login, register } from './site.js';

const USER = 'Обмен';
const PASSWORD = 'пароль-обмена';
const auth = () => ({ authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' });
const onecUrl = () => process.env.ONEC_URL as string;

/** 1C as a manager's tool or an admin sees it: OData and the fault switch. */
const onec = {
  async customers(): Promise<OnecCustomer[]> {
    const all: OnecCustomer[] = [];
    for (let skip = 0; ; skip += 1000) {
      const res = await fetch(`${onecUrl()}/odata/standard.odata/Catalog_Контрагенты?$format=json&$top=1000&$skip=${skip}`, { headers: auth() });
      const page = ((await res.json()) as { value: OnecCustomer[] }).value;
      all.push(...page);
      if (page.length < 1000) return all;
    }
  },
  async write(method: 'POST' | 'PATCH', ref: string | null, body: Partial<OnecCustomer>): Promise<OnecCustomer> {
    const url = `${onecUrl()}/odata/standard.odata/Catalog_Контрагенты${ref ? `(guid'${ref}')` : ''}?$format=json`;
    const res = await fetch(url, { method, headers: auth(), body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`1C: ${method} ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as OnecCustomer;
  },
  async faults(plan: FaultPlan): Promise<void> {
    const origin = new URL(onecUrl()).origin;
    const res = await fetch(`${origin}/admin/faults`, { method: 'POST', body: JSON.stringify(plan) });
    if (!res.ok) throw new Error(`1C: setting faults: HTTP ${res.status}`);
  },
  async stats(): Promise<{ requests: number; created: number; faults: Record<string, number> }> {
    return (await (await fetch(`${new URL(onecUrl()).origin}/admin/stats`)).json()) as { requests: number; created: number; faults: Record<string, number> };
  },
};

async function waitUntil(what: string, probe: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const EXPORT = 'customers.site.users->1c';
const IMPORT = 'customers.1c->site.users';

interface SiteRow {
  id: string;
  onec_id: string | null;
  sync_status: string;
  needs_1c_export: boolean;
  last_sync_at: Date | null;
  sync_error_message: string;
  phone: string | null;
  role: string;
  last_name: string;
}

/** The counts of a stream's latest run. */
async function lastRun(db: ExampleContext['db'], stream: string): Promise<{ created: number; updated: number; skipped: number; failed: number }> {
  const { rows } = await db.query<{ created: number; updated: number; skipped: number; failed: number }>(
    `select created, updated, skipped, failed from ferry_runs where stream = $1 order by started_at desc limit 1`,
    [stream],
  );
  return rows[0] ?? { created: -1, updated: -1, skipped: -1, failed: -1 };
}

const contacts = (phone: string, email: string): OnecCustomer['КонтактнаяИнформация'] => [
  { LineNumber: '1', Тип: 'Телефон', Представление: phone, НомерТелефона: phone, АдресЭП: '' },
  { LineNumber: '2', Тип: 'АдресЭлектроннойПочты', Представление: email, НомерТелефона: '', АдресЭП: email },
];

async function run({ db, ferry, ferryOutput, check, say }: ExampleContext): Promise<void> {
  await createSiteTables(db);
  const siteRows = async (where: string, params: unknown[] = []): Promise<SiteRow[]> =>
    (await db.query<SiteRow>(`select id, onec_id, sync_status, needs_1c_export, last_sync_at, sync_error_message, phone, role, last_name from users where ${where} order by id`, params)).rows;

  say('1. 200 sign-ups on the site (4 of them with an ИНН whose check digit is wrong), and Павел Морозов');
  const people = signUps(1, 200);
  const ids = await register(db, people);
  const bad = ids.filter((_, i) => people[i]?.badTaxId);
  const [pavel] = await register(db, [{ email: 'pavel@example.ru', first_name: 'Павел', last_name: 'Морозов', phone: '8 916 111-22-33' }]);
  if (!pavel) throw new Error('Павел Морозов did not register');
  const siteIds = [...ids, pavel];

  say('2. 1C starts failing: 30% of its requests (lock timeouts, resets, replies lost after the write, 429 Retry-After)');
  // seed 49: the first few packets meet every kind of fault (the export sends only a handful)
  await onec.faults({ serverError: 0.12, reset: 0.06, lostReply: 0.07, tooManyRequests: 0.05, retryAfterSeconds: 1, paths: ['/trade/hs/'], seed: 49 });
  check('the export run succeeds', (await ferry('run', 'customers', '--direction', 'export', '--wait')) === 0);
  await onec.faults({});
  const inOnec = (await onec.customers()).filter((c) => c.ИдентификаторНаСайте);
  const bySiteId = new Map(inOnec.map((c) => [c.ИдентификаторНаСайте, c]));
  const stats = await onec.stats();
  say(`   1C answered ${stats.requests} requests; faults served: ${JSON.stringify(stats.faults)}`);
  check('every valid sign-up is in 1C', siteIds.every((id) => bad.includes(id) || bySiteId.has(id)));
  check('none twice: one counterparty per site user, and 1C never created one twice', inOnec.length === bySiteId.size && stats.created === siteIds.length - bad.length);
  const letters = await db.query<{ error: string }>(`select error from ferry_dead_letters where stream = $1 order by record_key`, [EXPORT]);
  check(
    'the 4 bad ИНН are dead letters carrying 1C\'s error',
    letters.rows.length === bad.length && letters.rows.every((l) => /Контрольное число ИНН не совпадает с рассчитанным/.test(l.error)),
    letters.rows.map((l) => l.error).join(' | '),
  );
  const synced = await siteRows(`not (id = any($1::bigint[]))`, [bad]);
  const wrong = synced.filter((r) => r.sync_status !== 'synced' || r.onec_id !== bySiteId.get(r.id)?.Ref_Key || r.needs_1c_export || r.last_sync_at === null || r.sync_error_message !== '');
  check("write-back: each exported row holds 1C's id, sync_status 'synced', needs_1c_export false, last_sync_at, no error", synced.length === siteIds.length - bad.length && wrong.length === 0, `${wrong.length} rows differ, e.g. ${JSON.stringify(wrong[0])}`);
  const refused = await siteRows(`id = any($1::bigint[])`, [bad]);
  check(
    "write-back: each refused row says sync_status 'error' with 1C's error in sync_error_message, and stays flagged",
    refused.length === bad.length && refused.every((r) => r.sync_status === 'error' && r.needs_1c_export && r.onec_id === null && /Контрольное число ИНН не совпадает с рассчитанным/.test(r.sync_error_message)),
    JSON.stringify(refused[0]),
  );
  const sample = bySiteId.get(ids[1] as string);
  say(`   e.g. site user ${ids[1]} in 1C: ${sample?.Description}, ${sample?.ЮридическоеФизическоеЛицо}, ИНН ${sample?.ИНН}, КПП ${sample?.КПП}, ${sample?.КонтактнаяИнформация[0]?.Представление}`);

  say('3. 1C goes down; the site keeps taking sign-ups');
  await onec.faults({ down: true });
  const late = await register(db, signUps(1001, 10, 0));
  check('the site took 10 sign-ups while 1C was down', late.length === 10);
  check('the export starts (and waits for 1C: ferry retries with backoff)', (await ferry('run', 'customers', '--direction', 'export')) === 0);
  await new Promise((r) => setTimeout(r, 3_000));
  say(`   1C refused ${(await onec.stats()).faults.down} requests while down; now it is back`);
  await onec.faults({});
  await waitUntil('the 10 late sign-ups in 1C', async () => {
    const now = new Set((await onec.customers()).map((c) => c.ИдентификаторНаСайте));
    return late.every((id) => now.has(id));
  });
  check('the late sign-ups reached 1C once it was back', true);
  await waitUntil('the export run to end', async () => (await db.query(`select 1 from ferry_runs where stream = $1 and status = 'running'`, [EXPORT])).rowCount === 0);

  say('4. 20 customers log in (updated_at and last_login move); for 10 of them a careless save() flags the row for export too');
  const before = (await onec.stats()).requests;
  await login(db, ids.slice(10, 20));
  await login(db, ids.slice(20, 30), true);
  check('the export run succeeds', (await ferry('run', 'customers', '--direction', 'export', '--wait')) === 0);
  const logins = await lastRun(db, EXPORT);
  const afterLogins = (await onec.stats()).requests;
  check('a login exports nothing: the flagged rows are read and skipped by the hash of their significant fields', logins.created === 0 && logins.updated === 0 && logins.skipped >= 10, JSON.stringify(logins));
  check('1C was not written to (only the bad ИНН are retried)', afterLogins - before <= 1, `${afterLogins - before} requests`);
  const reflagged = await siteRows(`id = any($1::bigint[]) and (needs_1c_export or sync_status <> 'synced')`, [ids.slice(20, 30)]);
  check('the write-back cleared the careless flag', reflagged.length === 0, JSON.stringify(reflagged[0]));

  say('5. a manager adds a customer in 1C and moves a site customer to the dealers; a customer changes their phone on the site;');
  say('   Павел Морозов is edited on both sides: the manager sets his category and phone, he changes his phone and surname on the site');
  const anna = await onec.write('POST', null, {
    Description: 'Сидорова Анна',
    КатегорияКлиента: 'Оптовый',
    КонтактнаяИнформация: [
      { LineNumber: '1', Тип: 'Телефон', Представление: '8 (495) 123-45-67', НомерТелефона: '', АдресЭП: '' },
      { LineNumber: '2', Тип: 'АдресЭлектроннойПочты', Представление: 'anna@example.ru', НомерТелефона: '', АдресЭП: 'anna@example.ru' },
    ],
  });
  const promoted = ids[0] as string;
  const promotedRef = bySiteId.get(promoted)?.Ref_Key;
  if (!promotedRef) throw new Error(`site user ${promoted} is not in 1C`);
  await onec.write('PATCH', promotedRef, { КатегорияКлиента: 'Дилер' });
  const moved = ids[4] as string;
  await editProfile(db, moved, { phone: '+7 (999) 000-11-22' });
  const pavelRef = bySiteId.get(pavel)?.Ref_Key as string;
  await onec.write('PATCH', pavelRef, { КатегорияКлиента: 'Оптовый', КонтактнаяИнформация: contacts('+79165554433', 'pavel@example.ru') });
  await editProfile(db, pavel, { phone: '+7 916 222 33 44', last_name: 'Морозов-Лесной' });
  check('both directions run: import, then export', (await ferry('run', 'customers', '--direction', 'both')) === 0);
  const annaRow = await db.query<{ created_in_1c: boolean; onec_id: string; phone: string; role: string }>(`select created_in_1c, onec_id, phone, role from users where email = 'anna@example.ru'`);
  check("the manager's new customer is a site user, marked created_in_1c", annaRow.rows[0]?.created_in_1c === true && annaRow.rows[0]?.onec_id === anna.Ref_Key && annaRow.rows[0]?.phone === '+74951234567');
  const promotedRow = await db.query<{ role: string }>(`select role from users where id = $1`, [promoted]);
  check("the manager's category change reached the site (role dealer)", promotedRow.rows[0]?.role === 'dealer');
  const after = await onec.customers();
  check('the phone change reached 1C in E.164 (the site keeps it so too)', after.find((c) => c.ИдентификаторНаСайте === moved)?.КонтактнаяИнформация.find((r) => r.Тип === 'Телефон')?.НомерТелефона === '+79990001122');
  check('the customer made in 1C was not sent back (one Сидорова Анна in 1C)', after.filter((c) => c.Description === 'Сидорова Анна').length === 1);
  const [pavelRow] = await siteRows('id = $1', [pavel]);
  const pavelInOnec = after.find((c) => c.Ref_Key === pavelRef);
  check(
    'Павел on the site: category and phone from 1C (the manager wins what both changed), surname from the site (changed there only)',
    pavelRow?.role === 'wholesale' && pavelRow.phone === '+79165554433' && pavelRow.last_name === 'Морозов-Лесной',
    JSON.stringify(pavelRow),
  );
  check(
    'Павел in 1C: the same merge, carried back by the export',
    pavelInOnec?.Description === 'Морозов-Лесной Павел' && pavelInOnec.КатегорияКлиента === 'Оптовый' && pavelInOnec.КонтактнаяИнформация.find((r) => r.Тип === 'Телефон')?.НомерТелефона === '+79165554433',
    JSON.stringify(pavelInOnec),
  );
  const conflicts = await db.query<{ winner: string; reason: string }>(`select winner, reason from ferry_conflicts where pair = 'customers' and local_key = $1`, [JSON.stringify([pavel])]);
  check('the conflict is logged: merged, with which field came from where', conflicts.rows.length === 1 && conflicts.rows[0]?.winner === 'merged (both)', JSON.stringify(conflicts.rows));
  say(`   ${conflicts.rows[0]?.reason ?? 'no conflict logged'}`);
  check('ferry conflicts list runs', (await ferry('conflicts', 'list', '--pair', 'customers')) === 0);
  const listed = await ferryOutput('conflicts', 'list', '--pair', 'customers', '--json');
  check('ferry conflicts list shows it (its --json names Павел\'s Ref_Key)', listed.code === 0 && listed.output.includes(pavelRef), listed.output.slice(0, 300));

  say('6. both ways once more: nothing left to move, nothing echoes');
  check('both directions run again', (await ferry('run', 'customers', '--direction', 'both')) === 0);
  const [again, back] = [await lastRun(db, IMPORT), await lastRun(db, EXPORT)];
  check('the second run both ways imports and exports nothing', again.created + again.updated + back.created + back.updated === 0, JSON.stringify({ import: again, export: back }));

  say('7. a registration asks for its export at once (exportNow, from the site\'s code)');
  const [elena] = await register(db, [{ email: 'elena@example.ru', first_name: 'Елена', last_name: 'Новикова', phone: '8 (912) 345-67-89' }]);
  const settings = temporalSettings();
  const temporal = await connectClient(settings);
  const asked = Date.now();
  try {
    await exportNow(temporal.client, EXPORT, { taskQueue: settings.taskQueue });
  } finally {
    await temporal.close();
  }
  await waitUntil('Елена in 1C', async () => (await siteRows(`id = $1 and sync_status = 'synced'`, [elena])).length === 1);
  const elenaInOnec = (await onec.customers()).filter((c) => c.ИдентификаторНаСайте === elena);
  say(`   synced ${((Date.now() - asked) / 1000).toFixed(1)}s after the call`);
  check('exportNow: the new customer is in 1C, once, and her row says synced', elenaInOnec.length === 1 && (await siteRows('id = $1', [elena]))[0]?.onec_id === elenaInOnec[0]?.Ref_Key);
  await waitUntil('the export-now run to end', async () => (await db.query(`select 1 from ferry_runs where stream = $1 and status = 'running'`, [EXPORT])).rowCount === 0);

  say("8. the story's figures, from ferry stats");
  const statsRun = await ferryOutput('stats', '--since', '24h', '--json');
  check('ferry stats answers', statsRun.code === 0);
  const report = JSON.parse(statsRun.output) as { streams: { stream: string; records: { exported: number; created: number; failed: number }; deadLetters: number; averageSyncSeconds: number | null }[] };
  const figures = report.streams.find((s) => s.stream === EXPORT);
  if (!figures) throw new Error(`ferry stats: no figures for ${EXPORT}`);
  // per customer, not per attempt: a refused customer still flagged is read (and refused) again by later runs
  const rate = figures.records.created / (figures.records.created + figures.deadLetters);
  const pending = (await siteRows(`needs_1c_export and not created_in_1c`)).length;
  const outcome = await db.query<{ synced: number; failed: number }>(`select count(*) filter (where sync_status = 'synced')::int as synced, count(*) filter (where sync_status = 'error')::int as failed from users where not created_in_1c`);
  const dataRate = (outcome.rows[0]?.synced ?? 0) / ((outcome.rows[0]?.synced ?? 0) + (outcome.rows[0]?.failed ?? 0));
  say(`   exported today     ${figures.records.exported} (${figures.records.created} new in 1C)`);
  say(`   success rate       ${(rate * 100).toFixed(1)}% of the customers sent (${figures.deadLetters} refused)`);
  say(`   pending            ${figures.deadLetters} dead letters; ${pending} site rows flagged for export`);
  say(`   average sync time  ${figures.averageSyncSeconds?.toFixed(1) ?? '-'}s per export run`);
  const fromSite = (await onec.customers()).filter((c) => c.ИдентификаторНаСайте).length;
  check('exported today: each customer 1C holds from the site was created once by the export', figures.records.created === fromSite, `${figures.records.created} vs ${fromSite}`);
  check("the success rate is what the site's rows say (sync_status), and above the story's 95%", Math.abs(rate - dataRate) < 1e-9 && rate > 0.95, `${rate} vs ${dataRate}`);
  check('pending: the dead letters are the bad ИНН, still flagged on the site', figures.deadLetters === bad.length && pending === bad.length, `${figures.deadLetters} dead letters, ${pending} flagged`);
  check('average sync time is measured', figures.averageSyncSeconds !== null && figures.averageSyncSeconds > 0);
}

export default defineExample({
  description: 'site ⇄ 1C customers, a linked pair: faults, exactly-once export with write-back, no echo, a merged conflict, exportNow, the four figures',
  config: 'ferry.config.ts',
  sdkLogLevel: 'ERROR',
  databaseEnv: ['CUSTOMERS_1C_DATABASE_URL'],
  async services() {
    const service = await new OnecService({ users: { [USER]: PASSWORD } }).start();
    return {
      env: { ONEC_URL: `${service.url}/trade`, ONEC_BASIC_AUTH: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') },
      close: () => service.close(),
    };
  },
  run,
});
