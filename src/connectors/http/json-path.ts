import { valueAt } from '../../core/key.js';

/**
 * The value at a dotted path of a JSON body (`data.items`, `meta.next`); the
 * body itself for an empty path. Undefined when a step is missing.
 */
export function atPath(body: unknown, path: string | undefined): unknown {
  if (path === undefined || path === '') return body;
  return valueAt({ body }, `body.${path}`);
}
