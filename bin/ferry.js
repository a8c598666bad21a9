#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so ferry.config.ts needs no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const client = fileURLToPath(new URL('../src/client.ts', import.meta.url));
const result = spawnSync(process.execPath, ['--import', require.resolve('tsx'), client, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
