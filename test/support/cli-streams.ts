import type { Source } from '../../src/connectors/source.js';
import type { StreamDefinition } from '../../src/config/define-stream.js';
import { customerSource, customerStream } from './customers.js';

/**
 * The streams of test/cli.test.ts, built the same way in the test's worker and in
 * the CLI processes (test/fixtures/cli-pair.config.ts): every name starts with
 * `prefix` (stream names are workflow ids on a shared server), every table is
 * src_customers<suffix> -> dst_customers<suffix> in the test database.
 *
 * `customers` is a pair declared for both directions: an import stream (the CRM's
 * customers into the app) and an export stream (the app's customers out to the CRM).
 */
export const cliStreamKeys = ['basic', 'watch', 'detach', 'import', 'export'] as const;
export type CliStreamKey = (typeof cliStreamKeys)[number];

export const cliTables = (key: CliStreamKey) => ({ source: `src_customers_${key}`, target: `dst_customers_${key}` });

export function cliStreamNames(prefix: string): Record<CliStreamKey, string> & { pair: string } {
  return {
    basic: `${prefix}.basic`,
    watch: `${prefix}.watch`,
    detach: `${prefix}.detach`,
    import: `${prefix}.customers.import`,
    export: `${prefix}.customers.export`,
    pair: `${prefix}.customers`,
  };
}

export function cliStreams(prefix: string, url: string, sources: Partial<Record<CliStreamKey, Source>> = {}): StreamDefinition[] {
  const names = cliStreamNames(prefix);
  return cliStreamKeys.map((key) => {
    const tables = cliTables(key);
    const source = sources[key] ?? customerSource(url, tables.source, { system: key === 'export' ? 'app' : 'crm' });
    const pair = key === 'import' || key === 'export' ? { pair: names.pair, direction: key } : {};
    return customerStream(names[key], url, tables, { source, ...pair });
  });
}
