// Generators of hostile input for the fuzz suite: strings and JSON that have broken servers before
// (Object.prototype names, deep nesting, NUL, CR/LF, huge numbers, long text), OData query text built
// from the grammar and then damaged, and whole query strings with repeated or oversized options.
import fc from 'fast-check';

/** encodeURIComponent for any string (a lone surrogate can't be encoded: it is sent as U+FFFD). */
export const encode = (s: string) =>
  encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

/**
 * Reports a failure briefly: the seed and path that replay it, the error, and the start of the
 * counterexample (a hostile value can be megabytes of text).
 */
export function reporter<T>(out: fc.RunDetails<T>): void {
  if (!out.failed) return;
  const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(`property failed (seed ${out.seed}, path "${out.counterexamplePath}"): ${error.slice(0, 1500)}\ncounterexample: ${fc.stringify(out.counterexample).slice(0, 1500)}`);
}

/** One fixed seed for every property, so a failure in CI replays exactly on a laptop. */
export const SEED = 20261205;

/** Names every plain object inherits; a body or query key with one of them once reached a 500. */
export const protoNames = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__',
];

const specials = [
  '', ' ', '\u0000', 'a\u0000b', '\r\n', 'x\r\nSet-Cookie: a=b', '\t', '%', '%zz', '%00', '%2e%2e', '..', '.', '/',
  "'", "''", '"', '\\', '(', ')', '((((', '))))', '$batch', '$count', '$ref', '@', '#EXT#', 'null', 'true', '-1', '1e309',
  '9007199254740993', '00000000-0000-0000-0000-000000000000', '💥', '\u202e', '\ud800', 'Ａ', 'ǅ', 'ß', 'İ',
  ...protoNames,
];

/** Short text that is often special: the cases above, unicode, and plain words. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...specials) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom(2048, 5000, 70_000).map((n) => 'x'.repeat(n)) },
);

/**
 * JSON text nested this deep (just under, at and over the bound, and far over it). Text, not a value:
 * JSON.stringify of the deepest would overflow the test's own stack.
 */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(63, 64, 65, 2000, 20_000), fc.boolean())
  .map(([depth, arrays]) => (arrays ? '['.repeat(depth) : '{"a":'.repeat(depth)) + '"leaf"' + (arrays ? ']' : '}').repeat(depth));

/** Any JSON value, including hostile scalars and keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.oneof(hostileString, fc.constantFrom(...protoNames)), tie('value'), { maxKeys: 4 }),
})).value;

/**
 * A template body (as JSON text) with one property replaced, one hostile property added, one property
 * nested deep, or the whole body replaced.
 */
export function mutatedBody(template: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(template);
  const text = (v: unknown) => JSON.stringify(v) ?? 'null';
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(text(template)) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...(keys.length ? keys : ['x'])), hostileJson).map(([k, v]) => text({ ...template, [k]: v })) },
    fc.tuple(fc.oneof(fc.constantFrom(...protoNames), hostileString), hostileJson).map(([k, v]) => {
      const body: Record<string, unknown> = { ...template };
      Object.defineProperty(body, k, { value: v, enumerable: true, configurable: true, writable: true });
      return text(body);
    }),
    fc.tuple(fc.constantFrom(...(keys.length ? keys : ['x'])), deepJsonText).map(([k, deep]) => {
      const rest = text({ ...template, [k]: 0 });
      return rest.replace(`${JSON.stringify(k)}:0`, `${JSON.stringify(k)}:${deep}`);
    }),
    hostileJson.map(text),
    deepJsonText,
  );
}

// ---------------------------------------------------------------------------------------------------
// OData text

const properties = [
  'displayName', 'userPrincipalName', 'mail', 'givenName', 'surname', 'id', 'accountEnabled', 'userType',
  'createdDateTime', 'otherMails', 'proxyAddresses', 'identities', 'employeeId', 'jobTitle', 'department',
  'mailNickname', 'securityEnabled', 'members', 'nope', 'displayName/x', 'x',
];
const literal = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.constantFrom("'\u0000'", "'a\u0000'", "''", "'O''Brien'", '1', '-1', '1e400', '3.5', 'true', 'null', 'false',
    '2024-01-31T08:00:00Z', '2024-13-45', '00000000-0000-0000-0000-000000000000', "'%'", "'_'", "'\\'"),
);
const prop = fc.constantFrom(...properties);
const op = fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le');

/** A $filter in the grammar (mostly valid, sometimes not: unknown properties, wrong types). */
export const filterText: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(prop, op, literal).map(([p, o, l]) => `${p} ${o} ${l}`),
    fc.tuple(fc.constantFrom('startsWith', 'endsWith', 'startswith', 'contains'), prop, literal).map(([f, p, l]) => `${f}(${p}, ${l})`),
    fc.tuple(prop, fc.array(literal, { minLength: 1, maxLength: 5 })).map(([p, ls]) => `${p} in (${ls.join(', ')})`),
    fc.tuple(prop, fc.constantFrom('any', 'all'), tie('expr')).map(([p, q, e]) => `${p}/${q}(x: ${String(e).replace(/^\w+/, 'x')})`),
    fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('expr').map((e) => `not (${e})`),
    tie('expr').map((e) => `(${e})`),
  ),
})).expr as fc.Arbitrary<string>;

/** Text that breaks parsers: very deep nesting, very long chains, a cut or damaged valid text. */
export const brokenQueryText = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    fc.tuple(fc.constantFrom(31, 32, 33, 3000, 20_000), fc.constantFrom('(', 'not ', '(not ')).map(([n, open]) =>
      `${open.repeat(n)}displayName eq 'a'${')'.repeat(open.includes('(') ? n : 0)}`),
    fc.constantFrom(499, 500, 501, 1500).map((n) => Array.from({ length: n }, (_, i) => `id eq '${i}'`).join(' or ')),
    fc.tuple(valid, fc.nat()).map(([t, i]) => t.slice(0, i % (t.length + 1))),
    fc.tuple(valid, fc.nat(), hostileString).map(([t, i, junk]) => {
      const at = i % (t.length + 1);
      return t.slice(0, at) + junk + t.slice(at);
    }),
    hostileString,
  );

const searchTerm = fc.tuple(fc.constantFrom('displayName', 'mail', 'nope', ''), fc.string({ maxLength: 10 }))
  .map(([p, t]) => `"${p ? `${p}:` : ''}${t.replaceAll('"', '\\"')}"`);
export const searchText: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    searchTerm,
    fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR', 'and'), tie('expr')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('expr').map((e) => `(${e})`),
  ),
})).expr as fc.Arbitrary<string>;

export const orderByText = fc.array(fc.tuple(prop, fc.constantFrom('', ' asc', ' desc', ' up')), { minLength: 1, maxLength: 4 })
  .map((items) => items.map(([p, d]) => `${p}${d}`).join(','));
export const selectText = fc.oneof(
  fc.array(prop, { minLength: 1, maxLength: 6 }).map((ps) => ps.join(',')),
  fc.constantFrom(60, 200, 501, 2000).map((n) => Array.from({ length: n }, () => 'displayName').join(',')),
  fc.constant('*'),
);

/** A token of our own shape with hostile fields, base64url-encoded (what a tampering client sends). */
export const tamperedToken = fc.oneof(
  fc.record({
    v: fc.constantFrom(1, 2, '1'),
    c: fc.oneof(
      fc.record({ kind: fc.constant('after'), branch: fc.constantFrom(0, 1, -1, 7, 99, 1.5, '0'), key: fc.oneof(hostileString, fc.constant(null), fc.constant(5)), id: fc.oneof(hostileString, fc.constant(7)) }),
      fc.record({ kind: fc.constant('offset'), offset: fc.constantFrom(0, 1, -1, 1e9, 2 ** 31, 1e15, 1e300, 0.5, '5') }),
      hostileJson,
    ),
  }),
  fc.record({
    v: fc.constant(1), r: fc.constantFrom('user', 'group'), w: fc.constantFrom(0, 1, -1, 1e20, 2 ** 53), s: fc.oneof(fc.constant(null), fc.array(hostileString, { maxLength: 3 })),
    f: fc.oneof(fc.constant(null), fc.array(hostileString, { maxLength: 3 })), n: fc.constantFrom(1, 100, 0, 5000),
    i: fc.constantFrom(new Date().toISOString(), 'x', ''), p: fc.oneof(fc.constant(null), fc.record({ k: fc.constantFrom('init', 'chg'), a: hostileString, u: fc.constantFrom(0, 5, -1) })),
  }),
  hostileJson,
).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url'));

const optionValue: Record<string, fc.Arbitrary<string>> = {
  $filter: fc.oneof(filterText, brokenQueryText(filterText)),
  $search: fc.oneof(searchText, brokenQueryText(searchText)),
  $orderby: fc.oneof(orderByText, brokenQueryText(orderByText)),
  $select: fc.oneof(selectText, brokenQueryText(selectText)),
  $top: fc.constantFrom('1', '0', '-1', '999', '1000', '1e3', 'x', '99999999999999999999'),
  $count: fc.constantFrom('true', 'false', 'maybe'),
  $skiptoken: fc.oneof(tamperedToken, hostileString),
  $deltatoken: fc.oneof(tamperedToken, hostileString, fc.constant('latest')),
  $expand: fc.constantFrom('members', 'manager', 'x'),
  $skip: fc.constantFrom('1', 'x'),
};

/** A query string: some options (maybe repeated), each value URL-encoded as a client would send it. */
export const queryString: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom(...Object.keys(optionValue), 'x', '__proto__', 'constructor'), fc.nat(4)), { maxLength: 4 })
  .chain((names) =>
    fc.tuple(...names.map(([name, repeat]) =>
      fc.array((Object.hasOwn(optionValue, name) ? optionValue[name] : undefined) ?? hostileString, { minLength: repeat === 4 ? 2 : 1, maxLength: repeat === 4 ? 2 : 1 })
        .map((values) => values.map((v) => `${name}=${encode(v)}`).join('&')))))
  .map((parts) => (parts.length ? `?${parts.join('&')}` : ''));

/** A path segment: an id or UPN of the tenant, or hostile text, encoded the way a client encodes it. */
export function segment(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real).map(encode) },
    { weight: 2, arbitrary: hostileString.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%zz', '$batch', '%24batch', "('x')", 'a%2Fb') },
  );
}

/** Headers a client may send; some hostile, all valid on the wire. */
export const headers: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    consistencylevel: fc.constantFrom('eventual', 'session', ''),
    'client-request-id': fc.oneof(fc.uuid(), fc.string({ maxLength: 200 }).filter((s) => /^[\x20-\x7e]*$/.test(s))),
    prefer: fc.constantFrom('odata.maxpagesize=2', 'odata.maxpagesize=0', 'odata.maxpagesize=99999999999', 'return=minimal', 'x'),
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=latin1'),
    'if-match': fc.constantFrom('*', 'W/"x"'),
  },
  { requiredKeys: [] },
);
