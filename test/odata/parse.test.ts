import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseFilter,
  parseOrderBy,
  parseSearch,
  parseSelect,
  stringifyFilter,
  stringifyOrderBy,
  stringifySearch,
  stringifySelect,
} from '../../src/api/graph/odata/index.js';
import { DomainError } from '../../src/domain/errors.js';
import { lit, node, prefixUpperBound, reverseText, tokenize } from '../../src/domain/odata.js';

/** Asserts `fn` throws a DomainError with `code` whose message contains `fragment`. */
function throwsCode(fn: () => unknown, code: string, fragment?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected DomainError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (fragment) assert.ok(e.message.includes(fragment), `message was: ${e.message}`);
    return true;
  });
}

const roundTripsFilter = (text: string) => {
  const ast = parseFilter(text);
  assert.deepEqual(parseFilter(stringifyFilter(ast)), ast, `round trip of ${text} via ${stringifyFilter(ast)}`);
  return ast;
};

test('filter: comparisons and literals of every kind', () => {
  assert.deepEqual(parseFilter("displayName eq 'Ann'"), node.compare('eq', ['displayName'], lit.string('Ann')));
  assert.deepEqual(parseFilter("mail ne 'O''Brien@x.com'"), node.compare('ne', ['mail'], lit.string("O'Brien@x.com")));
  assert.deepEqual(parseFilter('accountEnabled eq true'), node.compare('eq', ['accountEnabled'], lit.boolean(true)));
  assert.deepEqual(parseFilter('showInAddressList eq FALSE'), node.compare('eq', ['showInAddressList'], lit.boolean(false)));
  assert.deepEqual(parseFilter('mail eq null'), node.compare('eq', ['mail'], lit.null()));
  assert.deepEqual(parseFilter('x lt -1.5e3'), node.compare('lt', ['x'], lit.number(-1500)));
  assert.deepEqual(parseFilter('x ge 42'), node.compare('ge', ['x'], lit.number(42)));
  assert.deepEqual(
    parseFilter('id eq 0e8bd1c6-1d5a-4a54-9b0a-7f2b0ab5b3a1'),
    node.compare('eq', ['id'], lit.guid('0e8bd1c6-1d5a-4a54-9b0a-7f2b0ab5b3a1')),
  );
  assert.deepEqual(
    parseFilter('id eq abcdef01-1d5a-4a54-9b0a-7f2b0ab5b3a1'),
    node.compare('eq', ['id'], lit.guid('abcdef01-1d5a-4a54-9b0a-7f2b0ab5b3a1')),
  );
  for (const dt of ['2024-01-31T08:00:00Z', '2024-01-31T08:00:00.123+02:00', '2024-01-31T08:00Z']) {
    assert.deepEqual(parseFilter(`createdDateTime gt ${dt}`), node.compare('gt', ['createdDateTime'], lit.dateTimeOffset(dt)));
  }
  for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const) {
    assert.deepEqual(parseFilter(`a ${op} 1`), node.compare(op, ['a'], lit.number(1)));
  }
});

test('filter: in, functions, lambdas', () => {
  assert.deepEqual(
    parseFilter("userType in ('Member', 'Guest')"),
    node.in(['userType'], [lit.string('Member'), lit.string('Guest')]),
  );
  assert.deepEqual(parseFilter("startswith(displayName,'mar')"), node.call('startsWith', ['displayName'], lit.string('mar')));
  assert.deepEqual(parseFilter("endsWith(mail, '@x.com')"), node.call('endsWith', ['mail'], lit.string('@x.com')));
  assert.deepEqual(
    parseFilter("identities/any(c:c/issuerAssignedId eq 'j@x.com' and c/issuer eq 'contoso.com')"),
    node.lambda(
      'any',
      ['identities'],
      'c',
      node.and(
        node.compare('eq', ['c', 'issuerAssignedId'], lit.string('j@x.com')),
        node.compare('eq', ['c', 'issuer'], lit.string('contoso.com')),
      ),
    ),
  );
  assert.deepEqual(
    parseFilter("otherMails/any(x: startsWith(x, 'a'))"),
    node.lambda('any', ['otherMails'], 'x', node.call('startsWith', ['x'], lit.string('a'))),
  );
  assert.deepEqual(parseFilter('otherMails/any()'), node.lambda('any', ['otherMails'], null, null));
  assert.deepEqual(
    parseFilter("tags/all(t: t ne 'x')"),
    node.lambda('all', ['tags'], 't', node.compare('ne', ['t'], lit.string('x'))),
  );
});

test('filter: precedence, not, grouping', () => {
  const a = node.compare('eq', ['a'], lit.number(1));
  const b = node.compare('eq', ['b'], lit.number(2));
  const c = node.compare('eq', ['c'], lit.number(3));
  assert.deepEqual(parseFilter('a eq 1 or b eq 2 and c eq 3'), node.or(a, node.and(b, c)));
  assert.deepEqual(parseFilter('(a eq 1 or b eq 2) and c eq 3'), node.and(node.or(a, b), c));
  assert.deepEqual(parseFilter('a eq 1 and b eq 2 and c eq 3'), node.and(node.and(a, b), c));
  assert.deepEqual(parseFilter('not(a eq 1) and b eq 2'), node.and(node.not(a), b));
  assert.deepEqual(parseFilter("NOT startsWith(a, 'x')"), node.not(node.call('startsWith', ['a'], lit.string('x'))));
  assert.deepEqual(parseFilter('not a eq 1'), node.not(a));
  assert.ok(Object.isFrozen(parseFilter('a eq 1 and b eq 2')));
});

test('filter: stringify round-trips', () => {
  for (const text of [
    "displayName eq 'O''Brien' and (startswith(mail,'a') or not(accountEnabled eq true))",
    "identities/any(c:c/issuerAssignedId eq 'j@x.com' and (c/issuer eq 'a' or c/issuer eq 'b'))",
    "id in (0e8bd1c6-1d5a-4a54-9b0a-7f2b0ab5b3a1, 'x', null)",
    'createdDateTime ge 2024-01-01T00:00:00Z and n lt -1.5',
    'a eq null or b ne 5 and c eq false',
    'a eq 1 or (b eq 2 or c eq 3)',
    'a eq 1 and (b eq 2 and c eq 3)',
    'not(not(a eq 1))',
    'otherMails/any() and proxyAddresses/any(p: endsWith(p, \'@x.com\'))',
    "displayName eq ''",
  ]) {
    roundTripsFilter(text);
  }
  // Constructed trees (not only parsed ones) round-trip too.
  const t = node.or(
    node.compare('eq', ['a'], lit.string("it's")),
    node.or(node.not(node.in(['b'], [lit.number(1.25)])), node.compare('le', ['c'], lit.number(1e21))),
  );
  assert.deepEqual(parseFilter(stringifyFilter(t)), t);
});

test('filter: syntax errors name the position like Graph', () => {
  throwsCode(() => parseFilter('displayName eq'), 'Request_BadRequest', "Invalid filter clause: Syntax error at position 12 in 'displayName eq'.");
  throwsCode(() => parseFilter("displayName eq 'x' and"), 'Request_BadRequest', 'position 19');
  throwsCode(() => parseFilter('(a eq 1'), 'Request_BadRequest', "Expected ')'");
  throwsCode(() => parseFilter("a eq 'x"), 'Request_BadRequest', 'position 5');
  throwsCode(() => parseFilter('a eq 1 b'), 'Request_BadRequest', 'position 7');
  throwsCode(() => parseFilter('a foo 1'), 'Request_BadRequest', 'position 2');
  throwsCode(() => parseFilter('a eq #'), 'Request_BadRequest', "The character '#'");
  throwsCode(() => parseFilter(''), 'Request_BadRequest', 'empty');
  throwsCode(() => parseFilter("startsWith(displayName 'a')"), 'Request_BadRequest', "','");
  throwsCode(() => parseFilter("otherMails/any(x x eq 'a')"), 'Request_BadRequest', "':'");
  throwsCode(() => parseFilter('a in (1,'), 'Request_BadRequest', 'position 7');
});

test('search: terms, AND/OR precedence, parentheses, escapes', () => {
  const t = (p: string | null, s: string) => node.term(p, s);
  assert.deepEqual(parseSearch('"displayName:ann smi"'), t('displayName', 'ann smi'));
  assert.deepEqual(
    parseSearch('"displayName:a" OR "mail:b" AND "surname:c"'),
    node.search('or', t('displayName', 'a'), node.search('and', t('mail', 'b'), t('surname', 'c'))),
  );
  assert.deepEqual(
    parseSearch('("displayName:a" OR "mail:b") AND "surname:c"'),
    node.search('and', node.search('or', t('displayName', 'a'), t('mail', 'b')), t('surname', 'c')),
  );
  assert.deepEqual(parseSearch('"displayName:say \\"hi\\" \\\\o/"'), t('displayName', 'say "hi" \\o/'));
  assert.deepEqual(parseSearch('"mail:a:b"'), t('mail', 'a:b'));
  assert.deepEqual(parseSearch('"just text"'), t(null, 'just text'));
  assert.deepEqual(parseSearch('"not a prop:x"'), t(null, 'not a prop:x'));
  assert.deepEqual(parseSearch('"a\\:b"'), t(null, 'a:b'));
  for (const text of [
    '"displayName:a" OR ("mail:b" OR "surname:c")',
    '"displayName:a" AND ("mail:b" OR "surname:c") AND "x:\\"q\\""',
    '"a\\:b" OR "plain"',
    '"displayName:"',
  ]) {
    const ast = parseSearch(text);
    assert.deepEqual(parseSearch(stringifySearch(ast)), ast, text);
  }
});

test('search: syntax errors', () => {
  throwsCode(() => parseSearch('"displayName:a" and "mail:b"'), 'Request_BadRequest', 'position 16');
  throwsCode(() => parseSearch('"displayName:a'), 'Request_BadRequest', 'not terminated');
  throwsCode(() => parseSearch('displayName:a'), 'Request_BadRequest', 'Invalid search clause: Syntax error at position 0');
  throwsCode(() => parseSearch('"a:b" "c:d"'), 'Request_BadRequest', 'Expected AND or OR');
  throwsCode(() => parseSearch('("a:b" OR "c:d"'), 'Request_BadRequest', "')'");
  throwsCode(() => parseSearch('"a:b" OR'), 'Request_BadRequest', 'position 6');
  throwsCode(() => parseSearch(''), 'Request_BadRequest', 'empty');
});

test('orderby and select', () => {
  assert.deepEqual(parseOrderBy('displayName desc, userPrincipalName'), [
    node.orderBy('displayName', 'desc'),
    node.orderBy('userPrincipalName', 'asc'),
  ]);
  const ob = parseOrderBy('displayName asc,createdDateTime desc');
  assert.deepEqual(parseOrderBy(stringifyOrderBy(ob)), ob);
  throwsCode(() => parseOrderBy('displayName sideways'), 'Request_BadRequest', 'position 12');
  throwsCode(() => parseOrderBy(''), 'Request_BadRequest', 'Invalid orderby clause');
  assert.deepEqual(parseSelect('id, displayName,mail'), ['id', 'displayName', 'mail']);
  const sel = parseSelect('id,manager/displayName');
  assert.deepEqual(parseSelect(stringifySelect(sel)), sel);
  throwsCode(() => parseSelect('id,,mail'), 'Request_BadRequest', 'Invalid select clause: Syntax error at position 3');
});

test('tokenize: Graph search split rules', () => {
  assert.deepEqual(tokenize('AnnieSmith2'), ['annie', 'smith', '2']);
  assert.deepEqual(tokenize('McDonald-Jones, Ann'), ['mc', 'donald', 'jones', 'ann']);
  assert.deepEqual(tokenize('ABCDef x99y  annie ANNIE'), ['abcdef', 'x', '99', 'y', 'annie']);
  assert.deepEqual(tokenize('jürgen.o\u0308hm@contoso.com'), ['jürgen', 'o\u0308hm', 'contoso', 'com']);
  assert.deepEqual(tokenize('  !!  '), []);
  assert.equal(prefixUpperBound('mar'), 'mas');
  assert.equal(prefixUpperBound('a\u{10ffff}'), 'b');
  assert.equal(prefixUpperBound('\u{10ffff}'), null);
  assert.equal(prefixUpperBound('a\ud7ff'), 'a\ue000');
  assert.equal(reverseText('ab😀c'), 'c😀ba');
});
