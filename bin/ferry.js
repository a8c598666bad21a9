#!/usr/bin/env node
// The `ferry` command. Installed (npm ci --omit=dev, or as a package) it runs the compiled
// CLI in dist/, with no TypeScript toolchain; in a development checkout, where src/ and tsx
// are both there, it runs the TypeScript sources through tsx's loader instead, so a change
// needs no build step. One process either way, not a child: Ctrl-C (SIGINT) reaches the CLI
// once, whether it comes from the terminal (the whole process group) or from `kill -INT <pid>`.
import { existsSync } from 'node:fs';

const source = new URL('../src/client.ts', import.meta.url);
// importing tsx registers its loader for the rest of this process
const tsx = existsSync(source) && (await import('tsx').then(() => true, () => false));
let main;
if (tsx) {
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/client.js').catch((err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write('ferry: dist/ is missing: run `npm run build` (or install tsx to run the sources)\n');
    process.exit(1);
  }));
}
process.exitCode = await main(process.argv);
