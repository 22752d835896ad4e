// Scoping filters: every documented operator, null ⇒ false, groups OR / clauses AND, Entra's
// ScopeEvaluationResult keys, validation of what an admin saves, bounds on hostile JSON.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../src/domain/errors.js';
import type { ExprValue } from '../../src/sync/expression/index.js';
import {
  evaluateScope,
  type FilterClause,
  filterOperators,
  type ScopingFilter,
  scopingFilterSchema,
  validateScopingFilter,
} from '../../src/sync/scoping/index.js';

const clause = (sourceOperandName: string, operatorName: string, ...values: string[]): FilterClause => ({
  sourceOperandName,
  operatorName,
  targetOperand: { values },
});
const filter = (...groups: FilterClause[][]): ScopingFilter => ({
  groups: groups.map((clauses, i) => ({ name: `Filter ${i + 1}`, clauses })),
  inputFilterGroups: [],
  categoryFilterGroups: [],
});
/** Saves the filter the way the Graph route will (schema, then validation), then evaluates it. */
const inScope = (c: FilterClause, attrs: Record<string, ExprValue>) => {
  const f = scopingFilterSchema.parse(filter([c]));
  validateScopingFilter(f);
  return evaluateScope(f, (n) => attrs[n]).inScope;
};

describe('operators', () => {
  test('the catalog has every documented operator with its arity', () => {
    const byName = new Map(filterOperators.map((o) => [o.name, o]));
    const expected: Record<string, string> = {
      EQUALS: 'Binary', NOT_EQUALS: 'Binary', IS_TRUE: 'Unary', IS_FALSE: 'Unary', IS_NULL: 'Unary', IS_NOT_NULL: 'Unary',
      REGEX_MATCH: 'Binary', NOT_REGEX_MATCH: 'Binary', Includes: 'Binary', ENDS_WITH: 'Binary', Greater_Than: 'Binary',
      Greater_Than_OR_EQUALS: 'Binary', '&': 'Binary', '!&': 'Binary',
    };
    assert.deepEqual([...byName.keys()].sort(), Object.keys(expected).sort());
    for (const [name, arity] of Object.entries(expected)) assert.equal(byName.get(name)?.arity, arity, name);
    assert.deepEqual(byName.get('EQUALS'), {
      id: 'EQUALS',
      name: 'EQUALS',
      arity: 'Binary',
      multivaluedComparisonType: 'All',
      supportedAttributeTypes: ['String', 'Integer', 'Reference', 'Binary', 'Boolean', 'DateTime'],
    });
  });

  const cases: [FilterClause, Record<string, ExprValue>, boolean][] = [
    [clause('department', 'EQUALS', 'Sales'), { department: 'Sales' }, true],
    [clause('department', 'EQUALS', 'Sales'), { department: 'sales' }, false], // case-sensitive
    [clause('department', 'EQUALS', 'Sales'), {}, false],
    [clause('department', 'NOT_EQUALS', 'Sales'), { department: 'HR' }, true],
    [clause('department', 'NOT_EQUALS', 'Sales'), { department: 'Sales' }, false],
    [clause('department', 'NOT_EQUALS', 'Sales'), {}, false], // null ⇒ false, even for NOT_EQUALS
    [clause('department', 'NOT_EQUALS', 'Sales'), { department: '' }, false],
    [clause('accountEnabled', 'IS_TRUE'), { accountEnabled: true }, true],
    [clause('accountEnabled', 'IS_TRUE'), { accountEnabled: 'True' }, true],
    [clause('accountEnabled', 'IS_TRUE'), { accountEnabled: false }, false],
    [clause('accountEnabled', 'IS_TRUE'), {}, false],
    [clause('accountEnabled', 'IS_FALSE'), { accountEnabled: false }, true],
    [clause('accountEnabled', 'IS_FALSE'), {}, false],
    [clause('manager', 'IS_NULL'), {}, true],
    [clause('manager', 'IS_NULL'), { manager: '' }, true],
    [clause('manager', 'IS_NULL'), { manager: 'x' }, false],
    [clause('manager', 'IS_NOT_NULL'), { manager: 'x' }, true],
    [clause('manager', 'IS_NOT_NULL'), {}, false],
    [clause('userPrincipalName', 'REGEX_MATCH', '.*\\@contoso.com'), { userPrincipalName: 'a@contoso.com' }, true],
    [clause('userPrincipalName', 'REGEX_MATCH', '.*\\@contoso.com'), { userPrincipalName: 'a@fabrikam.com' }, false],
    // Unanchored like .NET IsMatch: "([1-9][0-9])" also matches 123.
    [clause('employeeId', 'REGEX_MATCH', '([1-9][0-9])'), { employeeId: '123' }, true],
    [clause('employeeId', 'REGEX_MATCH', '^([1-9][0-9])$'), { employeeId: '123' }, false],
    [clause('userPrincipalName', 'NOT_REGEX_MATCH', 'contoso'), { userPrincipalName: 'a@fabrikam.com' }, true],
    [clause('userPrincipalName', 'NOT_REGEX_MATCH', 'contoso'), { userPrincipalName: 'a@contoso.com' }, false],
    [clause('userPrincipalName', 'NOT_REGEX_MATCH', 'contoso'), {}, false], // documented: false on null
    [clause('jobTitle', 'Includes', 'Eng'), { jobTitle: 'Senior Engineer' }, true],
    [clause('jobTitle', 'Includes', 'eng'), { jobTitle: 'Senior Engineer' }, false],
    [clause('mail', 'ENDS_WITH', '@contoso.com'), { mail: 'a@contoso.com' }, true],
    [clause('mail', 'ENDS_WITH', '@contoso.com'), { mail: 'a@contoso.com.evil' }, false],
    [clause('employeeId', 'Greater_Than', '100'), { employeeId: '101' }, true],
    [clause('employeeId', 'Greater_Than', '100'), { employeeId: '100' }, false],
    [clause('employeeId', 'Greater_Than', '100'), { employeeId: 'abc' }, false], // integers only
    [clause('employeeId', 'Greater_Than', '100'), { employeeId: 200 }, true],
    [clause('employeeId', 'Greater_Than_OR_EQUALS', '100'), { employeeId: '100' }, true],
    [clause('employeeId', 'Greater_Than_OR_EQUALS', '100'), { employeeId: '99' }, false],
    [clause('flags', '&', '2'), { flags: '6' }, true],
    [clause('flags', '&', '2'), { flags: '5' }, false],
    [clause('flags', '&', '2'), {}, false],
    [clause('flags', '!&', '2'), { flags: '5' }, true],
    [clause('flags', '!&', '2'), { flags: '6' }, false],
    [clause('flags', '!&', '2'), {}, false],
    // The portal's spellings with spaces are the same operators.
    [clause('department', 'NOT EQUALS', 'Sales'), { department: 'HR' }, true],
    [clause('accountEnabled', 'IS TRUE'), { accountEnabled: true }, true],
    // Multi-valued attributes: every value must pass (multivaluedComparisonType All).
    [clause('tags', 'ENDS_WITH', 'x'), { tags: ['ax', 'bx'] }, true],
    [clause('tags', 'ENDS_WITH', 'x'), { tags: ['ax', 'by'] }, false],
    [clause('tags', 'IS_NULL'), { tags: [] }, true],
  ];
  for (const [c, attrs, expected] of cases) {
    test(`${c.sourceOperandName} ${c.operatorName} ${c.targetOperand.values.join(',')} on ${JSON.stringify(attrs)} → ${expected}`, () => {
      assert.equal(inScope(c, attrs), expected);
    });
  }
});

describe('evaluation', () => {
  test('groups are OR-ed, clauses AND-ed; no filter or no groups is in scope', () => {
    const f = filter(
      [clause('department', 'EQUALS', 'Sales'), clause('country', 'EQUALS', 'NL')],
      [clause('jobTitle', 'EQUALS', 'CEO')],
    );
    const read = (attrs: Record<string, string>) => (n: string) => attrs[n];
    assert.equal(evaluateScope(f, read({ department: 'Sales', country: 'NL' })).inScope, true);
    assert.equal(evaluateScope(f, read({ department: 'Sales', country: 'DE' })).inScope, false);
    assert.equal(evaluateScope(f, read({ jobTitle: 'CEO' })).inScope, true);
    assert.deepEqual(evaluateScope(null, read({})), { inScope: true, results: {} });
    assert.deepEqual(evaluateScope(filter(), read({})), { inScope: true, results: {} });
  });

  test("results are keyed like Entra's ScopeEvaluationResult", () => {
    const f: ScopingFilter = {
      groups: [
        {
          name: 'Filter external users',
          clauses: [clause('alternativeSecurityIds', 'EQUALS', 'None'), clause('accountEnabled', 'IS_TRUE')],
        },
      ],
      inputFilterGroups: [],
      categoryFilterGroups: [],
    };
    assert.deepEqual(evaluateScope(f, (n) => (n === 'accountEnabled' ? true : 'x')), {
      inScope: false,
      results: {
        "Filter external users.alternativeSecurityIds EQUALS 'None'": false,
        'Filter external users.accountEnabled IS_TRUE': true,
      },
    });
  });
});

describe('validation and bounds', () => {
  const rejects = (f: unknown, fragment: string) =>
    assert.throws(
      () => validateScopingFilter(scopingFilterSchema.parse(f)),
      (e: unknown) => e instanceof DomainError && e.kind === 'badRequest' && e.message.includes(fragment),
      fragment,
    );

  test('unknown operator, wrong arity and bad values name the clause', () => {
    rejects(filter([clause('department', 'LIKE', 'x')]), "groups[0] 'Filter 1', clause 1 (department LIKE): unknown operator 'LIKE'");
    rejects(filter([clause('department', 'equals', 'x')]), "unknown operator 'equals'");
    rejects(filter([clause('department', 'EQUALS')]), 'EQUALS takes exactly one value, got 0');
    rejects(filter([clause('department', 'EQUALS', 'a', 'b')]), 'got 2');
    rejects(filter([clause('accountEnabled', 'IS_TRUE', 'yes')]), 'IS_TRUE takes no value');
    rejects(filter([clause('upn', 'REGEX_MATCH', '(unclosed')]), 'Invalid regular expression');
    rejects(filter([clause('upn', 'REGEX_MATCH', '(a)\\1')]), 'backreferences');
    rejects(filter([clause('upn', 'REGEX_MATCH', 'a'.repeat(1_001))]), '1000');
    rejects(filter([clause('upn', 'REGEX_MATCH', '(?:\\w+\\s?){1000}')]), 'too complex');
    rejects(filter([clause('n', 'Greater_Than', 'ten')]), "'ten' is not an integer");
    rejects(filter([]), 'at least one clause');
    rejects({ groups: [], inputFilterGroups: [{ name: 'in', clauses: [clause('a', 'NOPE', 'x')] }] }, "inputFilterGroups[0] 'in'");
    validateScopingFilter(scopingFilterSchema.parse(filter([clause('accountEnabled', 'IS_TRUE', '')])));
  });

  test('the schema accepts Graph JSON (nulls, @odata.type) and bounds sizes', () => {
    const f = scopingFilterSchema.parse({
      '@odata.type': '#microsoft.graph.filter',
      groups: [{ name: 'g', clauses: [{ operatorName: 'IS_TRUE', sourceOperandName: 'accountEnabled', targetOperand: null }] }],
      inputFilterGroups: null,
    });
    assert.deepEqual(f, {
      groups: [{ name: 'g', clauses: [{ operatorName: 'IS_TRUE', sourceOperandName: 'accountEnabled', targetOperand: { values: [] } }] }],
      inputFilterGroups: [],
      categoryFilterGroups: [],
    });
    const many = (n: number) => Array.from({ length: n }, () => clause('a', 'EQUALS', 'b'));
    assert.equal(scopingFilterSchema.safeParse(filter(...Array.from({ length: 21 }, () => many(1)))).success, false);
    assert.equal(scopingFilterSchema.safeParse(filter(many(51))).success, false);
    assert.equal(scopingFilterSchema.safeParse(filter([clause('a', 'EQUALS', 'x'.repeat(1_025))])).success, false);
    assert.equal(scopingFilterSchema.safeParse(filter(many(50))).success, true);
  });

  test('a catastrophic regex is matched in linear time', () => {
    const t0 = performance.now();
    assert.equal(inScope(clause('x', 'REGEX_MATCH', '^(a+)+$'), { x: `${'a'.repeat(5_000)}b` }), false);
    assert.ok(performance.now() - t0 < 2_000);
  });

  test('arbitrary JSON never throws anything but DomainError through schema + validation', () => {
    const check = (json: unknown) => {
      const r = scopingFilterSchema.safeParse(json);
      if (!r.success) return;
      try {
        validateScopingFilter(r.data);
        evaluateScope(r.data, () => 'abc');
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
      }
    };
    fc.assert(fc.property(fc.jsonValue(), check), { seed: 11, numRuns: 5_000 });
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...filterOperators.map((o) => o.name), '(', '[', '\\', '(?<x>a)', '*'));
    const clauseArb = fc.record({
      operatorName: text,
      sourceOperandName: text,
      targetOperand: fc.option(fc.record({ values: fc.option(fc.array(text, { maxLength: 3 })) })),
    });
    const groupArb = fc.record({ name: fc.option(text), clauses: fc.array(clauseArb, { maxLength: 4 }) });
    fc.assert(
      fc.property(
        fc.record({ groups: fc.option(fc.array(groupArb, { maxLength: 4 })), inputFilterGroups: fc.option(fc.array(groupArb, { maxLength: 2 })) }),
        check,
      ),
      { seed: 12, numRuns: 10_000 },
    );
  });
});
