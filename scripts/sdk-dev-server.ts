// Fallback dev server for machines with a network and no Temporal CLI: the
// Temporal SDK downloads the CLI itself (or uses TEMPORAL_BIN when set) and
// runs `temporal server start-dev`. Stays in the foreground until SIGINT/SIGTERM;
// writes "ready" to the file given by --ready-file once the server answers.
//   tsx scripts/sdk-dev-server.ts --port 7244 [--ui] [--ready-file F] [-- extra start-dev args]
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const separator = process.argv.indexOf('--');
const own = separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator);
const extraArgs = separator === -1 ? [] : process.argv.slice(separator + 1);
const { values } = parseArgs({ args: own, options: { port: { type: 'string', default: '7233' }, ui: { type: 'boolean', default: false }, 'ready-file': { type: 'string' } } });

const bin = process.env.TEMPORAL_BIN;
const env = await TestWorkflowEnvironment.createLocal({
  server: {
    ip: '127.0.0.1',
    port: Number(values.port),
    ui: values.ui,
    extraArgs,
    ...(bin ? { executable: { type: 'existing-path' as const, path: bin } } : {}),
  },
});
console.error(`sdk-dev-server: serving on 127.0.0.1:${values.port}${values.ui ? ` (Web UI on ${Number(values.port) + 1000})` : ''}`);
if (values['ready-file']) await writeFile(values['ready-file'], 'ready\n');

// The native server handle does not keep Node's event loop alive; this does.
const keepAlive = setInterval(() => undefined, 60_000);
const stop = async () => {
  clearInterval(keepAlive);
  await env.teardown();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
