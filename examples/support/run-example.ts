// npm run example [name] (scripts/example.sh → this file).
//   without a name: lists the examples (folders of examples/ with an example.ts);
//   with a name: gives the example a fresh database, starts a worker for its config in this
//   process, runs it (it sets up its data, runs ferry end to end and checks the result),
//   prints the checks and exits 1 on any mismatch, 2 on an unknown name.
// Environment: TEMPORAL_ADDRESS (scripts/example.sh makes sure a server answers there),
// FERRY_EXAMPLE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// FERRY_EXAMPLE_KEEP=1 keeps the example's databases afterwards.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Runtime } from '@temporalio/worker';
import { FerrySdkLogger } from '../../src/sdk-logger.js';
import pg from 'pg';
import { survivesCutConnections } from '../../src/connectors/postgres/pool.js';
import type { ExampleContext, ExampleDefinition } from './define-example.js';

const examplesDir = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.FERRY_EXAMPLE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function exampleNames(): string[] {
  return readdirSync(examplesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(examplesDir, d.name, 'example.ts')))
    .map((d) => d.name)
    .sort();
}

async function load(name: string): Promise<ExampleDefinition> {
  const mod = (await import(pathToFileURL(path.join(examplesDir, name, 'example.ts')).href)) as { default: ExampleDefinition };
  return mod.default;
}

async function list(): Promise<void> {
  process.stdout.write('examples (npm run example <name>):\n');
  for (const name of exampleNames()) process.stdout.write(`  ${name.padEnd(20)} ${(await load(name)).description}\n`);
}

/** Databases made for one example, dropped at the end. */
class Databases {
  private readonly made: { name: string; pool: pg.Pool }[] = [];

  async create(name: string): Promise<{ url: string; db: pg.Pool }> {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
    // the drop at the end cuts idle connections: heard, not fatal
    const db = survivesCutConnections(new pg.Pool({ connectionString: url, max: 4 }));
    this.made.push({ name, pool: db });
    return { url, db };
  }

  async dropAll(keep: boolean): Promise<void> {
    await Promise.allSettled(this.made.map((m) => m.pool.end()));
    if (keep) return;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      for (const m of this.made) await admin.query(`drop database if exists ${m.name} with (force)`);
    } finally {
      await admin.end();
    }
  }
}

async function run(name: string): Promise<number> {
  const example = await load(name);
  // before any connection or worker exists
  Runtime.install({ logger: new FerrySdkLogger(example.sdkLogLevel ?? 'WARN') });
  const databases = new Databases();
  const dbName = `ferry_example_${name.replace(/\W/g, '_')}`.toLowerCase();
  const main = await databases.create(dbName);
  // Before anything loads the config or opens the state store: both read the environment.
  process.env.DATABASE_URL = main.url;
  for (const variable of example.databaseEnv ?? []) process.env[variable] = main.url;
  const services = example.services ? await example.services() : undefined;
  Object.assign(process.env, services?.env ?? {});
  process.env.FERRY_CONFIG = path.join(examplesDir, name, example.config);
  process.env.FERRY_TASK_QUEUE ??= `ferry-example-${name}`;
  process.env.FERRY_LOG_LEVEL ??= 'warn';

  const { createFerryWorker } = await import('../../src/worker.js');
  const { main: ferryMain } = await import('../../src/client.js');
  const failures: string[] = [];
  let checks = 0;
  const ctx: ExampleContext = {
    url: main.url,
    db: main.db,
    database: (suffix) => databases.create(`${dbName}_${suffix.replace(/\W/g, '_')}`.toLowerCase()),
    ferry: (...args) => {
      process.stdout.write(`$ ferry ${args.join(' ')}\n`);
      return ferryMain(['node', 'ferry', ...args]);
    },
    async ferryOutput(...args) {
      // the CLI runs in-process and prints to stdout: collect what it writes while it runs (the example reads it)
      process.stdout.write(`$ ferry ${args.join(' ')}    (output read by the example)\n`);
      const chunks: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof process.stdout.write;
      try {
        const code = await ferryMain(['node', 'ferry', ...args]);
        return { code, output: chunks.join('') };
      } finally {
        process.stdout.write = write;
      }
    },
    check(label, ok, detail) {
      checks += 1;
      process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${label}${!ok && detail ? `: ${detail}` : ''}\n`);
      if (!ok) failures.push(label);
    },
    async same(label, a, b, db = main.db) {
      const { rows } = await db.query<{ only_a: number; only_b: number }>(
        `select (select count(*) from ((${a}) except all (${b})) x)::int as only_a, (select count(*) from ((${b}) except all (${a})) y)::int as only_b`,
      );
      const diff = rows[0] ?? { only_a: -1, only_b: -1 };
      ctx.check(label, diff.only_a === 0 && diff.only_b === 0, `${diff.only_a} rows only in the first, ${diff.only_b} only in the second`);
    },
    say: (line) => process.stdout.write(`${line}\n`),
  };

  const worker = await createFerryWorker();
  const running = worker.run();
  const started = Date.now();
  try {
    await example.run(ctx);
  } catch (err) {
    failures.push(`the example stopped: ${err instanceof Error ? err.message : String(err)}`);
    process.stderr.write(`example ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await services?.close();
    await databases.dropAll(process.env.FERRY_EXAMPLE_KEEP === '1');
  }
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    process.stdout.write(`example ${name}: FAILED (${failures.length} of ${checks} checks failed, ${took}s)\n`);
    return 1;
  }
  process.stdout.write(`example ${name}: ok (${checks} checks, ${took}s)\n`);
  return 0;
}

const name = process.argv[2];
if (!name) {
  await list();
} else if (!exampleNames().includes(name)) {
  process.stderr.write(`unknown example "${name}"; known: ${exampleNames().join(', ')}\n`);
  process.exitCode = 2;
} else {
  // one exit point: a connection a failed example left open must not keep the process alive
  process.exit(await run(name));
}
