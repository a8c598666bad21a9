// A keyset pages correctly only when its ORDER BY and its comparison agree on
// type. In Postgres an unqualified name in ORDER BY means the output column
// first: `select id::text as id … where id > $1::bigint order by id` orders by
// text and compares numbers, and a replay read that way skipped dead letters
// ("10" sorts before "9"). No SQL in src/ may order by a name it selected as
// text; order by the qualified column (`d.id`) or select it under another name.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './support/harness.js';

/** How far after `x::text as name` an `order by … name` still counts as the same statement. */
const STATEMENT_SPAN = 800;

/** `order by`s in `sql` that name, unqualified, a column the statement selected cast to text. */
function textOrderedAliases(sql: string): string[] {
  const found: string[] = [];
  for (const alias of sql.matchAll(/::\s*(?:text|varchar|character varying)\s+as\s+"?(\w+)"?/gi)) {
    const name = alias[1] as string;
    const after = sql.slice((alias.index ?? 0) + alias[0].length, (alias.index ?? 0) + alias[0].length + STATEMENT_SPAN);
    const statementEnd = after.search(/;|\bselect\b/i);
    const statement = statementEnd < 0 ? after : after.slice(0, statementEnd);
    for (const order of statement.matchAll(/order\s+by\s+([^`;]*?)(?:\blimit\b|\boffset\b|\)|`|$)/gi)) {
      if (new RegExp(`(^|[^.\\w"])"?${name}"?(?![\\w.])`, 'i').test(order[1] as string)) found.push(`${alias[0]} … order by ${(order[1] as string).trim()}`);
    }
  }
  return found;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))),
  );
  return nested.flat();
}

describe('SQL ordering', () => {
  it('recognises the replay query that skipped dead letters, and its fix', () => {
    const before = 'select id::text as id, system, record_key, raw from ferry_dead_letters\n where stream = ${s} and id > ${a}::bigint\n order by id\n limit ${n}';
    assert.equal(textOrderedAliases(before).length, 1);
    assert.deepEqual(textOrderedAliases(before.replace('order by id', 'order by ferry_dead_letters.id')), []);
    assert.deepEqual(textOrderedAliases('select max(id)::text as max_id from t order by max_id_other'), []);
    assert.equal(textOrderedAliases('select x::text as "k" from t order by y, k desc').length, 1);
  });

  it('no statement in src/ orders by a name it selected as text', async () => {
    const files = await sourceFiles(path.join(repoRoot, 'src'));
    assert.ok(files.length > 50, `found the sources (${files.length} files)`);
    const offenders: string[] = [];
    for (const file of files) {
      for (const hit of textOrderedAliases(await readFile(file, 'utf8'))) offenders.push(`${path.relative(repoRoot, file)}: ${hit}`);
    }
    assert.deepEqual(offenders, []);
  });
});
