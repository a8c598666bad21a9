import type pg from 'pg';

/**
 * What an example's run gets: its own fresh database, the ferry CLI (run
 * in-process, as a user types it), and a way to record checks. A worker for
 * the example's config runs in the same process for the whole example.
 */
export interface ExampleContext {
  /** connection string of the example's database (state store and tables) */
  url: string;
  /** a pool on it, for arranging data and checking results */
  db: pg.Pool;
  /** another fresh database for this example (dropped at the end), e.g. a second node */
  database(suffix: string): Promise<{ url: string; db: pg.Pool }>;
  /** runs `ferry <args>` with the example's config and returns its exit code */
  ferry(...args: string[]): Promise<number>;
  /** runs `ferry <args>` and returns what it printed instead of showing it (e.g. `stats --json`, to read figures from) */
  ferryOutput(...args: string[]): Promise<{ code: number; output: string }>;
  /** records a check: the example fails (exit 1) when any check fails */
  check(label: string, ok: boolean, detail?: string): void;
  /** checks that two queries return the same rows (EXCEPT both ways) */
  same(label: string, a: string, b: string, db?: pg.Pool): Promise<void>;
  /** a line of the example's own output */
  say(line: string): void;
}

export interface ExampleDefinition {
  /** one line for `npm run example` */
  description: string;
  /** the example's config file, relative to its folder (FERRY_CONFIG while it runs) */
  config: string;
  /** environment variables the config reads its database URL from (set to the example's database before the config loads) */
  databaseEnv?: readonly string[];
  /**
   * Servers the example brings along (a fake ERP over HTTP), started before the
   * config loads: their `env` is set first (e.g. the URL the config reads), and
   * they are closed at the end.
   */
  services?(): Promise<ExampleServices>;
  /**
   * The Temporal SDK's log level for the example's worker; default 'WARN'. An example
   * that makes its systems fail on purpose sets 'ERROR': each retried activity is a WARN.
   */
  sdkLogLevel?: 'WARN' | 'ERROR';
  /** sets up the data, runs ferry end to end, checks the result */
  run(ctx: ExampleContext): Promise<void>;
}

export interface ExampleServices {
  /** environment variables for the config and the worker, e.g. { ONEC_URL: 'http://127.0.0.1:40123/trade' } */
  env: Record<string, string>;
  close(): Promise<void>;
}

export function defineExample(definition: ExampleDefinition): ExampleDefinition {
  return definition;
}
