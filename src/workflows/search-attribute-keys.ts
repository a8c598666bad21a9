import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * ferry's custom search attributes: what an operator filters runs by, in the
 * Web UI or with `temporal workflow list --query 'FerryStream = "crm.customers"
 * and FerryStatus = "failed"'`. Registered by `ferry setup` (and by the worker
 * at start when it may), and by the project's scripts when they start a dev
 * server (scripts/ensure-temporal.sh). Three Int attributes at most: the dev
 * server's SQLite visibility store allows no more of one type.
 */
export const SEARCH_ATTRIBUTES = {
  stream: defineSearchAttributeKey('FerryStream', SearchAttributeType.KEYWORD),
  pair: defineSearchAttributeKey('FerryPair', SearchAttributeType.KEYWORD),
  pipeline: defineSearchAttributeKey('FerryPipeline', SearchAttributeType.KEYWORD),
  /** incremental, full, replay, exchange */
  mode: defineSearchAttributeKey('FerryMode', SearchAttributeType.KEYWORD),
  /** running, succeeded, warning, failed, cancelled */
  status: defineSearchAttributeKey('FerryStatus', SearchAttributeType.KEYWORD),
  /** records read */
  records: defineSearchAttributeKey('FerryRecords', SearchAttributeType.INT),
  /** created + updated */
  written: defineSearchAttributeKey('FerryWritten', SearchAttributeType.INT),
  /** records that became dead letters */
  failed: defineSearchAttributeKey('FerryFailed', SearchAttributeType.INT),
} as const;
