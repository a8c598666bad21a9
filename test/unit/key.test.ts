// Keys (src/core/key.ts): their text, the form bindings, dead letters and links store them in, and the field paths they are read by.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyOf, parseKey, serializeKey, valueAt } from '../../src/core/key.js';

describe('serializeKey', () => {
  it('reads back as the same parts, whatever they hold', () => {
    const parts = ['42', '', 'a"b', 'a\\b', 'tab\there', 'line\nbreak', '\u0000', '\u001f', 'é', '\u2028', '\ud83d\ude00', '["1"]'];
    for (const part of parts) assert.deepEqual(parseKey(serializeKey([part])), [part], `part ${JSON.stringify(part)}`);
    assert.deepEqual(parseKey(serializeKey(['a', 'b"c'])), ['a', 'b"c']);
    assert.equal(serializeKey(['7']), '["7"]');
    assert.throws(() => parseKey('[7]'), /not a serialized key/);
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
