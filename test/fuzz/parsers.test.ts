// Property: every parser of the Graph surface ($filter, $search, $orderby, $select, skip and delta
// tokens, the JSON body parser) answers any text with a tree or a DomainError `badRequest`, never
// another exception (a stack overflow, a TypeError); what it builds stringifies and parses back to the
// same tree; and the SQL compiler answers every tree the parser builds with SQL or a DomainError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseJsonBody } from '../../src/api/body.js';
import { decodeSkipToken } from '../../src/api/graph/query.js';
import {
  parseFilter, parseOrderBy, parseSearch, parseSelect, stringifyFilter, stringifyOrderBy, stringifySearch, stringifySelect,
} from '../../src/api/graph/odata/index.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { isDomainError } from '../../src/domain/errors.js';
import { compileFilter, compileOrderBy, compileSearch } from '../../src/store/query/compile.js';
import {
  brokenQueryText, deepJsonText, filterText, hostileJson, orderByText, reporter, SEED, searchText, selectText, tamperedToken,
} from './arbitraries.js';

const RUNS = Number(process.env.FUZZ_PARSER_RUNS ?? 3000);
const options = { seed: SEED, numRuns: RUNS, reporter };

/** Runs `fn`; a thrown error must be a DomainError of kind badRequest. Returns the result or undefined. */
function refusedCleanly<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(isDomainError(e), `${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.kind, 'badRequest', `${what}: kind ${e.kind}`);
    return undefined;
  }
}

const anyText = (valid: fc.Arbitrary<string>) => fc.oneof(valid, brokenQueryText(valid), fc.string({ unit: 'binary', maxLength: 60 }));

describe('fuzz: parsers', () => {
  test('$filter: a tree or a 400; round-trips; compiles or refuses cleanly', () => {
    fc.assert(fc.property(anyText(filterText), (text) => {
      const tree = refusedCleanly(() => parseFilter(text), `$filter=${text.slice(0, 200)}`);
      if (!tree) return;
      assert.deepEqual(parseFilter(stringifyFilter(tree)), tree);
      for (const advanced of [false, true]) refusedCleanly(() => compileFilter(tree, userCatalog, 1, { advanced }), `compile ${text.slice(0, 200)}`);
    }), options);
  });

  test('$search: a tree or a 400; round-trips; compiles or refuses cleanly', () => {
    fc.assert(fc.property(anyText(searchText), (text) => {
      const tree = refusedCleanly(() => parseSearch(text), `$search=${text.slice(0, 200)}`);
      if (!tree) return;
      assert.deepEqual(parseSearch(stringifySearch(tree)), tree);
      refusedCleanly(() => compileSearch(tree, userCatalog, 1), `compile ${text.slice(0, 200)}`);
    }), options);
  });

  test('$orderby and $select: a list or a 400; round-trip', () => {
    fc.assert(fc.property(anyText(orderByText), anyText(selectText), (orderBy, select) => {
      const list = refusedCleanly(() => parseOrderBy(orderBy), `$orderby=${orderBy.slice(0, 200)}`);
      if (list) {
        assert.deepEqual(parseOrderBy(stringifyOrderBy(list)), list);
        refusedCleanly(() => compileOrderBy(list, userCatalog, { advanced: true }), `compile $orderby=${orderBy.slice(0, 200)}`);
      }
      const names = refusedCleanly(() => parseSelect(select), `$select=${select.slice(0, 200)}`);
      if (names) assert.deepEqual(parseSelect(stringifySelect(names)), names);
    }), options);
  });

  test('$skiptoken: a cursor within its bounds or a 400', () => {
    fc.assert(fc.property(fc.oneof(tamperedToken, fc.string({ maxLength: 40 })), (token) => {
      const c = refusedCleanly(() => decodeSkipToken(token), `$skiptoken=${token.slice(0, 200)}`);
      if (!c) return;
      if (c.kind === 'offset') assert.ok(Number.isSafeInteger(c.offset) && c.offset >= 0 && c.offset < 2 ** 31);
      else assert.ok(Number.isSafeInteger(c.branch) && typeof c.id === 'string' && !c.id.includes('\u0000'));
    }), options);
  });

  test('JSON bodies: a value or a 400, never deeper than the bound or carrying NUL or prototype names', () => {
    const body = fc.oneof(deepJsonText, hostileJson.map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 40 }));
    fc.assert(fc.property(body, (text) => {
      refusedCleanly(() => parseJsonBody(text), `body ${text.slice(0, 200)}`);
    }), { ...options, numRuns: Math.min(RUNS, 1000) });
  });
});
