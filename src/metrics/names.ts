/**
 * The names of the metrics ferry's worker serves on /metrics. The Grafana
 * dashboard (deploy/grafana/dashboards/ferry.json) queries these; a test checks
 * that every name it uses exists in a real scrape.
 */
export const METRIC = {
  /** counter {stream, outcome}: records by outcome, added when a run finishes */
  records: 'ferry_records_total',
  /** counter {stream, status}: finished runs */
  runs: 'ferry_runs_total',
  /** histogram {stream, status}: run duration, start to finish */
  runDuration: 'ferry_run_duration_seconds',
  /** gauge {stream}: unix time of the last sync run (not a dead-letter replay) that finished with status succeeded (state store, at scrape) */
  lastSuccess: 'ferry_last_success_timestamp_seconds',
  /** gauge {stream}: open dead letters (state store, at scrape) */
  deadLetters: 'ferry_dead_letters',
  /** gauge {stream}: seconds between now and what the target is known to be synced up to (state store, at scrape) */
  lag: 'ferry_lag_seconds',
  /** gauge {stream}: a run waits for `ferry approve` / `ferry reject`; the value is the share of known records it would delete, 0 when nothing waits (state store, at scrape) */
  awaitingApproval: 'ferry_awaiting_approval',
  /** gauge: 1 when the last scrape could read the state store, else 0 */
  stateStoreUp: 'ferry_state_store_up',
} as const;

export const RECORD_OUTCOMES = ['created', 'updated', 'skipped', 'deleted', 'failed'] as const;
export const FINISHED_STATUSES = ['succeeded', 'warning', 'failed', 'cancelled'] as const;
