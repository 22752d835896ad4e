// $select lists are checked once per text and kept (api/graph/query.ts parseSelectParam): a repeated list
// must come back alike and as an array of its own, and a bad one be refused alike every time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSelectParam } from '../../src/api/graph/query.js';

const allowed = new Set(['id', 'displayName', 'mail']);

test('a repeated $select is answered alike, each time with its own array; a bad one refused every time', () => {
  const first = parseSelectParam('id,displayName,mail,id', allowed, 'user');
  assert.deepEqual(first, ['id', 'displayName', 'mail']);
  first?.push('changed');
  const second = parseSelectParam('id,displayName,mail,id', allowed, 'user');
  assert.deepEqual(second, ['id', 'displayName', 'mail'], 'what a caller did to its copy is not what the next one gets');
  assert.notEqual(second, first);
  for (let k = 0; k < 2; k++) {
    assert.throws(() => parseSelectParam('id,jobTitle', allowed, 'user'), /Could not find a property named 'jobTitle' on type 'microsoft.graph.user'/);
  }
  assert.throws(() => parseSelectParam('id,displayName', new Set(['id']), 'group'), /named 'displayName' on type 'microsoft.graph.group'/, 'per set of allowed names');
});
