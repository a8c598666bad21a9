import type { Source } from '../../src/connectors/source.js';
import type { Target } from '../../src/connectors/target.js';

/**
 * Plain objects that forward every member of the Source / Target contract to
 * a real connector: the base of the tests' wrappers (gated, flaky,
 * fault-injecting), which spread it and replace the one method they change.
 */
export function forwardSource(inner: Source): Source {
  return {
    system: inner.system,
    capabilities: inner.capabilities,
    versionField: inner.versionField,
    check: (shape) => inner.check(shape),
    fetch: (request) => inner.fetch(request),
    lag: (checkpoint, now) => inner.lag(checkpoint, now),
    close: () => inner.close(),
  };
}

export function forwardTarget(inner: Target): Target {
  const remove = inner.delete?.bind(inner);
  return {
    system: inner.system,
    capabilities: inner.capabilities,
    check: () => inner.check(),
    upsert: (rows, context) => inner.upsert(rows, context),
    ...(remove ? { delete: (rows: Parameters<typeof remove>[0], context: Parameters<typeof remove>[1]) => remove(rows, context) } : {}),
    close: () => inner.close(),
  };
}
