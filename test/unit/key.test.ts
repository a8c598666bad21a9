// Key text (src/core/key.ts): the form bindings, dead letters and links store keys in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyOf, parseKey, serializeKey, valueAt } from '../../src/core/key.js';

describe('serializeKey', () => {
  it('writes exactly what JSON.stringify writes, whatever the parts hold', () => {
    const parts = ['42', '', 'a"b', 'a\\b', 'tab\there', 'line\nbreak', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '\ud83d\ude00', '\ud800', 'x\udfff', '["1"]'];
    for (const part of parts) {
      assert.equal(serializeKey([part]), JSON.stringify([part]), `part ${JSON.stringify(part)}`);
      assert.deepEqual(parseKey(serializeKey([part])), [part]);
    }
    assert.equal(serializeKey(['a', 'b"c']), JSON.stringify(['a', 'b"c']));
    assert.equal(serializeKey([]), '[]');
  });

  it('keeps a composite key apart from a single part holding the same text', () => {
    assert.notEqual(serializeKey(['a","b']), serializeKey(['a', 'b']));
  });
});

describe('valueAt and keyOf', () => {
  it('read top-level and nested fields, and say undefined for a missing step', () => {
    const row = { id: 7, 'a.b': 'flat', customer: { id: 'c-1' }, none: null };
    assert.equal(valueAt(row, 'id'), 7);
    assert.equal(valueAt(row, 'customer.id'), 'c-1');
    assert.equal(valueAt(row, 'a.b'), undefined); // a dot always means nesting
    assert.equal(valueAt(row, 'none.id'), undefined);
    assert.equal(valueAt(row, 'missing'), undefined);
    assert.deepEqual(keyOf(row, ['id', 'customer.id']), ['7', 'c-1']);
    assert.equal(keyOf(row, ['none']), null);
  });
});
