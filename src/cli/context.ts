import type { Client } from '@temporalio/client';
import { loadConfig, type StreamRegistry } from '../config/load-config.js';
import { stringifyJson } from '../core/json-values.js';
import { createStateDb, type StateDb } from '../state/db.js';
import { connectClient, temporalSettings, type TemporalSettings } from '../temporal.js';

/** What commands need, opened on first use and closed once at exit. */
export class CliContext {
  readonly settings: TemporalSettings = temporalSettings();
  private temporal: Promise<{ client: Client; close: () => Promise<void> }> | undefined;
  private database: StateDb | undefined;
  private registry: Promise<StreamRegistry> | undefined;

  client(): Promise<Client> {
    this.temporal ??= connectClient(this.settings);
    return this.temporal.then((t) => t.client);
  }

  db(): StateDb {
    this.database ??= createStateDb(undefined, 2);
    return this.database;
  }

  streams(): Promise<StreamRegistry> {
    this.registry ??= loadConfig();
    return this.registry;
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.temporal) closing.push(this.temporal.then((t) => t.close()));
    if (this.database) closing.push(this.database.destroy());
    if (this.registry) closing.push(this.registry.then((r) => r.close()));
    await Promise.allSettled(closing);
  }
}

/** JSON on stdout; record data keeps its exact numbers (LosslessNumber) and JSON nulls. */
export function printJson(value: unknown): void {
  process.stdout.write(`${stringifyJson(value, 2)}\n`);
}
