// FERRY_HEAP_GROWTH_PERCENT: how far the worker's heap may grow past what is live (src/heap-growth.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { boundHeapGrowth } from '../../src/heap-growth.js';
import { ConfigurationError } from '../../src/core/errors.js';

describe('boundHeapGrowth', () => {
  it('defaults to 30%, takes a whole percent, and 0 leaves V8 alone', () => {
    assert.equal(boundHeapGrowth({}), 30);
    assert.equal(boundHeapGrowth({ FERRY_HEAP_GROWTH_PERCENT: '' }), 30);
    assert.equal(boundHeapGrowth({ FERRY_HEAP_GROWTH_PERCENT: '75' }), 75);
    assert.equal(boundHeapGrowth({ FERRY_HEAP_GROWTH_PERCENT: '0' }), 0);
  });

  it('refuses anything else, saying what it takes', () => {
    for (const bad of ['-1', '401', '1.5', 'lots']) {
      assert.throws(() => boundHeapGrowth({ FERRY_HEAP_GROWTH_PERCENT: bad }), (err: unknown) => err instanceof ConfigurationError && err.message.includes(`got "${bad}"`) && err.message.includes('0 to 400'));
    }
  });

  it('bounds the heap: 40 MB made garbage again and again keep the heap far below what V8 grows it to by default', () => {
    boundHeapGrowth({ FERRY_HEAP_GROWTH_PERCENT: '30' });
    let keep: unknown[] = [];
    let peak = 0;
    for (let round = 0; round < 60; round++) {
      keep = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `row ${i} of round ${round}` }));
      peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
    }
    assert.ok(keep.length > 0);
    // measured: about 90 MiB bounded, 225 MiB with V8's default growth
    assert.ok(peak < 160 * 2 ** 20, `peak heap ${Math.round(peak / 2 ** 20)} MiB`);
  });
});
