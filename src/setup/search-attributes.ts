import type { Client } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { errorMessage } from '../core/errors.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attribute-keys.js';

/** temporal.api.enums.v1.IndexedValueType, for the two types ferry uses. */
const INDEXED_VALUE_TYPE: Partial<Record<SearchAttributeType, number>> = {
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
};

export interface SearchAttributeSetup {
  /** registered before this call */
  present: string[];
  /** registered by this call */
  added: string[];
  /** still missing (registering was not asked for, or not allowed) */
  missing: string[];
  /** why they could not be registered (no operator permission, Temporal Cloud: use tcld or the Cloud UI) */
  error?: string;
}

/**
 * Makes sure ferry's search attributes exist in the namespace (idempotent):
 * lists them, and with `register` adds the missing ones through the operator
 * API. Runs are tagged only when all exist (tagRun in the workflows).
 */
export async function ensureSearchAttributes(client: Client, namespace: string, options: { register: boolean }): Promise<SearchAttributeSetup> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  const operator = client.connection.operatorService;
  let known: Record<string, unknown>;
  try {
    known = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    return { present: [], added: [], missing: wanted.map((k) => k.name), error: errorMessage(err).split('\n')[0] ?? '' };
  }
  const present = wanted.filter((k) => k.name in known).map((k) => k.name);
  const absent = wanted.filter((k) => !(k.name in known));
  if (absent.length === 0 || !options.register) return { present, added: [], missing: absent.map((k) => k.name) };
  try {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(absent.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type] ?? 0])),
    });
    return { present, added: absent.map((k) => k.name), missing: [] };
  } catch (err) {
    return { present, added: [], missing: absent.map((k) => k.name), error: errorMessage(err).split('\n')[0] ?? '' };
  }
}
