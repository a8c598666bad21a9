import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './support/harness.js';

// Workflow code runs in Temporal's deterministic sandbox and is replayed: no I/O,
// no Node built-ins, no pg/kysely/zod/connectors/state store (TEMPORAL-NOTES.md).
const ALLOWED_PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common']);

/** Runtime (non-type) import specifiers of a TypeScript file. */
function runtimeImports(source: string): string[] {
  const found: string[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(pattern)) {
    if (m[2]) continue;
    // `import { type A, type B } from '…'` is type-only too.
    const onlyNamed = /^\s*(?:import|export)\s*\{([^}]*)\}\s*from/.exec(m[0])?.[1];
    if (onlyNamed !== undefined && onlyNamed.split(',').every((n) => !n.trim() || /^\s*type\s/.test(n))) continue;
    found.push(m[3] as string);
  }
  return found;
}

async function walk(file: string, seen: Map<string, string[]>): Promise<void> {
  if (seen.has(file)) return;
  const imports = runtimeImports(await readFile(file, 'utf8'));
  seen.set(file, imports);
  for (const spec of imports) {
    if (spec.startsWith('.')) await walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')), seen);
  }
}

describe('workflow code', () => {
  it('imports nothing at run time but Temporal workflow APIs and pure project modules', async () => {
    const seen = new Map<string, string[]>();
    await walk(path.join(repoRoot, 'src', 'workflows', 'index.ts'), seen);
    const offences = [...seen].flatMap(([file, imports]) =>
      imports.filter((s) => !s.startsWith('.') && !ALLOWED_PACKAGES.has(s)).map((s) => `${path.relative(repoRoot, file)} imports ${s}`),
    );
    assert.deepEqual(offences, []);
    const files = [...seen.keys()].map((f) => path.relative(repoRoot, f)).sort();
    assert.ok(files.includes(path.join('src', 'workflows', 'sync-stream.ts')), `walked: ${files.join(', ')}`);
    assert.ok(!files.some((f) => f.includes(`${path.sep}activities${path.sep}`) || f.includes(`${path.sep}state${path.sep}`)), `workflow code reaches: ${files.join(', ')}`);
  });

  it('detects a forbidden import (the check itself works)', () => {
    assert.deepEqual(runtimeImports(`import pg from 'pg';\nimport type { X } from 'kysely';\nimport { type Y } from 'zod';\nimport { a } from './a.js';`), ['pg', './a.js']);
  });
});
