// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${name}` is .NET regex replacement syntax, not a placeholder
// The provisioning expression language: Entra's documented test vectors, parse errors with
// positions, bounds on untrusted input, Graph's attributeMappingSource and parseExpression shapes.
// Pure code: no database, so no dialect loop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../src/domain/errors.js';
import {
  attributesOf,
  type EvalContext,
  type ExprNode,
  type ExprValue,
  ExpressionError,
  evaluateExpression,
  evaluateMapping,
  expressionFunctions,
  mappingSourceToNode,
  nodeToMappingSource,
  parseExpression,
  stringifyExpression,
  testExpression,
} from '../../src/sync/expression/index.js';

const NOW = new Date('2021-07-02T15:33:38Z');

/** Deterministic [0,1) source (mulberry32), so Guid/RandomString tests are reproducible. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(expr: string, attrs: Record<string, ExprValue> = {}, ctx: Partial<EvalContext> = {}): ExprValue {
  return evaluateExpression(parseExpression(expr), (n) => attrs[n], { now: NOW, random: seeded(1), ...ctx });
}

function throwsExpr(fn: () => unknown, code: string, fragment?: string, position?: number) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ExpressionError, `expected ExpressionError, got ${String(e)}`);
    assert.ok(e instanceof DomainError);
    assert.equal(e.kind, 'badRequest');
    assert.equal(e.code, code, e.message);
    if (fragment) assert.ok(e.message.includes(fragment), `message was: ${e.message}`);
    if (position !== undefined) assert.equal(e.position, position, e.message);
    return true;
  });
}

// §1.4 of the reference: [#, expression, inputs, expected]. Where Microsoft's published output is
// wrong, the expected value is the recomputed one and the case says so.
const hire = { StatusHireDate: '2012-03-16-07:00' };
const vectors: [number, string, Record<string, ExprValue>, ExprValue][] = [
  [1, 'Append([userPrincipalName], ".test")', { userPrincipalName: 'John.Doe@contoso.com' }, 'John.Doe@contoso.com.test'],
  [2, 'BitAnd(&HF, &HF7)', {}, 7],
  [3, 'CDate([StatusHireDate])', { StatusHireDate: '2020-03-16-07:00' }, '3/16/2020 7:00:00 AM'],
  [4, 'CDate("2021-06-30+08:00")', {}, '6/29/2021 4:00:00 PM'],
  [5, 'CDate("2009-06-15T01:45:30-07:00")', {}, '6/15/2009 8:45:30 AM'],
  [6, 'Coalesce([mail],[userPrincipalName])', { userPrincipalName: 'John.Doe@contoso.com' }, 'John.Doe@contoso.com'],
  [7, 'ConvertToBase64("Hello world!")', {}, 'SABlAGwAbABvACAAdwBvAHIAbABkACEA'],
  [8, 'ConvertToUTF8Hex("Hello world!")', {}, '48656C6C6F20776F726C6421'],
  [9, 'CStr([dn])', { dn: 'cn=Joe,dc=contoso,dc=com' }, 'cn=Joe,dc=contoso,dc=com'],
  [10, 'DateAdd("d", 7, CDate([StatusHireDate]))', hire, '3/23/2012 7:00:00 AM'],
  [11, 'DateAdd("d", -10, CDate([StatusHireDate]))', hire, '3/6/2012 7:00:00 AM'],
  [12, 'DateAdd("ww", 2, CDate([StatusHireDate]))', hire, '3/30/2012 7:00:00 AM'],
  [13, 'DateAdd("m", 10, CDate([StatusHireDate]))', hire, '1/16/2013 7:00:00 AM'],
  [14, 'DateAdd("yyyy", 2, CDate([StatusHireDate]))', hire, '3/16/2014 7:00:00 AM'],
  [15, 'DateDiff("d", CDate([d1]), CDate([d2]))', { d1: '2021-08-18+08:00', d2: '2021-08-31+08:00' }, 13],
  [16, 'DateDiff("d", CDate([d1]), CDate([d2]))', { d1: '8/25/2021 5:41:18 PM', d2: '2012-03-16-07:00' }, -3449],
  [17, 'DateDiff("ww", CDate([d1]), CDate([d2]))', { d1: '8/25/2021 5:41:18 PM', d2: '2012-03-16-07:00' }, -493],
  [18, 'DateDiff("m", CDate([d1]), CDate([d2]))', { d1: '8/25/2021 5:41:18 PM', d2: '2012-03-16-07:00' }, -113],
  [19, 'DateDiff("yyyy", CDate([d1]), CDate([d2]))', { d1: '8/25/2021 5:41:18 PM', d2: '2012-03-16-07:00' }, -9],
  [20, 'DateDiff("d", CDate([d1]), CDate([d2]))', { d1: '2021-08-31+08:00', d2: '2021-08-31+08:00' }, 0],
  [21, 'DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 24],
  [21, 'DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 1440],
  [21, 'DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 86400],
  [22, 'DateFromNum(129699324000000000)', {}, '1/1/2012 11:00:00 PM'],
  [23, 'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', { extensionAttribute1: '20150123105347.1Z' }, '2015-01-23'],
  [24, 'InStr("The quick brown fox","quick")', {}, 5],
  [25, 'InStr("repEated","e",3,vbBinaryCompare)', {}, 7],
  [26, 'IIF([country]="USA",[country],[department])', { country: 'USA', department: 'Sales' }, 'USA'],
  [27, 'Left("John Doe", 3)', {}, 'Joh'],
  [28, 'NormalizeDiacritics([givenName])', { givenName: 'Zoë' }, 'Zoe'],
  [29, 'PCase([firstName])', { firstName: 'PABLO GONSALVES (SECOND)' }, 'Pablo Gonsalves (Second)'],
  [30, 'PCase([lastName]," \'-")', { lastName: "PINTO-DE'SILVA" }, "Pinto-De'Silva"],
  [31, 'PCase(Join(" ",[firstName],[lastName]))', { firstName: 'GREGORY', lastName: 'JAMES' }, 'Gregory James'],
  [32, 'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )', { BusinessTitle: 'Product Developer' }, 'Software Engineer'],
  [33, 'Replace([UserID],"<username>", , , , , "<username>@contoso.com")', { UserID: 'jsmith' }, 'jsmith@contoso.com'],
  [34, 'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )', { telephoneNumber: '+91 9998887777' }, '9998887777'],
  // Microsoft's page says 19998887777, but '+' is not in the character class, so it stays.
  [35, 'Replace([mobile], , "[()\\\\s-]+", , "", , )', { mobile: '+1 (999) 888-7777' }, '+19998887777'],
  [36, 'Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )', { AddressLineData: '545 Tremont Street' }, '888 Tremont Street'],
  [37, 'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', { userPrincipalName: 'jsmith@contoso.com' }, 'jsmith'],
  [38, 'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber", , [mobile], )', { telephoneNumber: '', mobile: '+91 8887779999' }, '8887779999'],
  [39, 'Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', { mailNickname: 'john_doe72' }, '72'],
  [40, 'Replace([mail], "@contoso.com", , ,"", ,)', { mail: 'john.doe@contoso.com' }, 'john.doe'],
  // Microsoft's page shows ["PermissionSetOne","PermissionSetTwo"]; String.Split keeps the space.
  [41, 'Split([extensionAttribute5], ",")', { extensionAttribute5: 'PermissionSetOne, PermissionSetTwo' }, ['PermissionSetOne', ' PermissionSetTwo']],
  [42, 'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")', { state: 'QLD' }, 'Australia/Brisbane'],
  [43, 'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",[PreferredFirstName],[PreferredLastName]))), "contoso.com"))', { PreferredFirstName: 'John', PreferredLastName: 'Smith' }, 'john.smith@contoso.com'],
  [44, 'Word("The quick brown fox",3," ")', {}, 'brown'],
  [45, 'Word("This,string!has&many separators",3,",!&#")', {}, 'has'],
  [46, 'Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))', { givenName: 'John', surname: 'Doe' }, 'JohDoe'],
  [47, 'Join(", ", "", [surname], [givenName])', { givenName: 'John', surname: 'Doe' }, 'Doe, John'],
  // Microsoft's page shows the value of another GUID; this is the one computed for the input.
  [48, 'Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))', { objectId: '00aa00aa-bb11-cc22-dd33-44ee44ee44ee' }, '100030306161303061612626231312636332322646433332343465653434656534346565'],
  [50, 'Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', { statusFlag: 'TRUE' }, '1'],
  [51, 'Switch([statusFlag], "Default Value", "true", "1", "", "0")', { statusFlag: '' }, '0'],
  [52, 'Switch([Active], , "1", "True", "0", "False")', { Active: '1' }, 'True'],
  [52, 'Switch([Active], , "1", "True", "0", "False")', { Active: '0' }, 'False'],
  [53, 'Replace([WorkerID], , "(?<leadingZeros>^0+)(?<actualValue>[a-zA-Z0-9]+)", , "${actualValue}", ,)', { WorkerID: '00012345' }, '12345'],
  [54, 'Replace([PreferredNameData], , "(?<firstName>[a-zA-Z]+ )(?<lastName>[a-zA-Z]+)", ,"${lastName}", ,)', { PreferredNameData: 'John Smith' }, 'Smith'],
  [55, 'Join(" ",Replace([HereditarySuffix], ,"(?<CountryISOCode>.*)_(?<suffix1>.*)_(?<suffix2>.*)[0-9]", ,"${suffix1} ${suffix2}", , ),[PreferredLastName])', { HereditarySuffix: 'NLD_Van_der3', PreferredLastName: 'Hof' }, 'Van der Hof'],
  [56, 'Replace(PCase("st john\'s hospital"),"\'S", , ,"\'s", , )', {}, "St John's Hospital"],
  [57, 'Replace(Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>.*)", , "${phoneNumber}", , ), ,"[()\\\\s-]+", ,"", , )', { telephoneNumber: '+1 737-626-8331' }, '7376268331'],
  [58, 'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>.* )[x](?<extension>.*)", , "${extension}", , )', { telephoneNumber: '+1 (206) 291-8163 x8125' }, '8125'],
  [59, 'Join("", [PreferredLastName], ",", [PreferredFirstName], " ", Mid([PreferredMiddleName],1,1), "-", [WorkerID])', { PreferredLastName: 'Johnson', PreferredFirstName: 'Sarah', PreferredMiddleName: 'Elizabeth', WorkerID: '12345' }, 'Johnson,Sarah E-12345'],
  [60, 'Replace([preferredLanguage], "-", , , "_", , )', { preferredLanguage: 'EN-US' }, 'EN_US'],
  // Microsoft's Workday page says 133835135990000000 and 139418879990000000: both are wrong.
  [61, 'NumFromDate("2025-12-31T23:59:59-08:00")', {}, '134117279990000000'],
  [62, 'NumFromDate("2030-01-15 23:59:59-05:00")', {}, '135392435990000000'],
];

describe('documented test vectors (§1.4)', () => {
  for (const [n, expr, attrs, expected] of vectors) {
    test(`#${n} ${expr.slice(0, 70)}`, () => {
      assert.deepEqual(run(expr, attrs), expected);
    });
  }

  test('#49 SelectUniqueValue asks the uniqueness oracle rule by rule', () => {
    const expr =
      'SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [First], [Last]))), "contoso.com"), ' +
      'Join("@", NormalizeDiacritics(StripSpaces(Join(".", Mid([First], 1, 1), [Last]))), "contoso.com"), ' +
      'Join("@", NormalizeDiacritics(StripSpaces(Join(".", Mid([First], 1, 2), [Last]))), "contoso.com"))';
    const attrs = { First: 'John', Last: 'Smith' };
    assert.equal(run(expr, attrs, { isUnique: () => true }), 'John.Smith@contoso.com');
    const taken = new Set(['John.Smith@contoso.com']);
    assert.equal(run(expr, attrs, { isUnique: (v) => !taken.has(v) }), 'J.Smith@contoso.com');
    taken.add('J.Smith@contoso.com');
    assert.equal(run(expr, attrs, { isUnique: (v) => !taken.has(v) }), 'Jo.Smith@contoso.com');
    taken.add('Jo.Smith@contoso.com');
    throwsExpr(() => run(expr, attrs, { isUnique: (v) => !taken.has(v) }), 'Expression_Evaluation', 'already taken');
    throwsExpr(() => parseExpression(`Append(${expr}, "x")`), 'Expression_Arity', 'whole expression', 7);
  });
});

describe('grammar and parse errors', () => {
  test('accepted forms: empty slots, numbers as strings, hex, keywords, comparisons, whitespace', () => {
    assert.equal(run('Mid([PreferredFirstName], "1", "1")', { PreferredFirstName: 'Ann' }), 'A');
    assert.equal(run('IIF([StatusRehire]=1, "rehire", "new")', { StatusRehire: '1' }), 'rehire');
    assert.equal(run('IIF(DateDiff("d", CDate("2021-01-01"), Now()) > 5, "old", "new")'), 'old');
    assert.equal(run('CBool([a] = [b])', { a: 'x', b: 'x' }), true);
    assert.equal(run('InStr("repEated", "E", 1, vbTextCompare)'), 2);
    assert.equal(run('Switch([Active], ,\n  "1", "True",\r\n\t"0", "False")', { Active: '0' }), 'False');
    assert.equal(run('"Company name: \\"Contoso\\""'), 'Company name: "Contoso"');
    assert.equal(run('[extension_abc_dept.Name#1]', { 'extension_abc_dept.Name#1': 'x' }), 'x');
    assert.deepEqual(parseExpression('Guid()'), { type: 'call', name: 'Guid', args: [] });
    // A single backslash before another character stays: both spellings of a regex mean the same.
    assert.deepEqual(parseExpression('"\\+49"'), parseExpression('"\\\\+49"'));
  });

  test('nodes are frozen', () => {
    const n = parseExpression('Append([a], "b")');
    assert.ok(Object.isFrozen(n));
    assert.ok(n.type === 'call' && Object.isFrozen(n.args) && Object.isFrozen(n.args[0]));
  });

  test('errors name the position and what was expected', () => {
    throwsExpr(() => parseExpression('Left("John", 3'), 'Expression_Syntax', "Expected ',' or ')'", 14);
    throwsExpr(() => parseExpression('Left("John" 3)'), 'Expression_Syntax', "Expected ',' or ')' but found '3'", 12);
    throwsExpr(() => parseExpression('Append([a, "x")'), 'Expression_Syntax', 'position', 7);
    throwsExpr(() => parseExpression('Append([a], "x)'), 'Expression_Syntax', 'close the string', 12);
    throwsExpr(() => parseExpression('Append([a], "x") extra'), 'Expression_Syntax', 'Expected the end of the expression', 17);
    throwsExpr(() => parseExpression(''), 'Expression_Syntax', 'found the end of the expression', 0);
    throwsExpr(() => parseExpression('[a] = [b] = [c]'), 'Expression_Syntax', 'one comparison', 10);
    throwsExpr(() => parseExpression('Foo'), 'Expression_Syntax', "Expected '(' after the function name 'Foo'", 0);
    throwsExpr(() => parseExpression('Append([a], ?)'), 'Expression_Syntax', "Unexpected character '?'", 12);
    throwsExpr(() => parseExpression('ToLower(tolower([a]))'), 'Expression_UnknownFunction', "did you mean 'ToLower'", 8);
    throwsExpr(() => parseExpression('Frobnicate([a])'), 'Expression_UnknownFunction', "Unknown function 'Frobnicate'", 0);
    throwsExpr(() => parseExpression('Left("a")'), 'Expression_Arity', 'Left expects 2 arguments, got 1', 0);
    throwsExpr(() => parseExpression('Mid(, 1, 2)'), 'Expression_Arity', "needs its 'source'", 0);
    throwsExpr(() => parseExpression('Switch([a], "d", "k")'), 'Expression_Arity', 'at least 4');
    throwsExpr(() => parseExpression('Switch([a], "d", "k", "v", "k2")'), 'Expression_Arity', 'pairs');
    throwsExpr(() => parseExpression('Replace([a], "x", , , , , )'), 'Expression_Arity', 'Replace needs');
  });

  test('bounds: 10,000 characters, 64 levels, and no stack overflow on hostile nesting', () => {
    const long = `"${'x'.repeat(9_998)}"`;
    assert.equal(long.length, 10_000);
    assert.equal((run(long) as string).length, 9_998);
    throwsExpr(() => parseExpression(`${long} `), 'Expression_TooLong', '10000', 10_000);
    const nest = (n: number) => `${'Not('.repeat(n)}[a]${')'.repeat(n)}`;
    assert.equal(run(nest(64), { a: 'True' }), true);
    throwsExpr(() => parseExpression(nest(65)), 'Expression_TooDeep', '64 levels', 256);
    throwsExpr(() => parseExpression('Not('.repeat(2_400)), 'Expression_TooDeep');
    throwsExpr(() => parseExpression('['.repeat(10_000)), 'Expression_Syntax');
  });

  test('regexes: checked when parsed, linear time, .NET named-group spellings', () => {
    throwsExpr(() => parseExpression('Replace([a], , "(unclosed", , "", , )'), 'Expression_InvalidRegex', 'Invalid regular expression', 0);
    throwsExpr(() => parseExpression('Replace([a], , "(a)\\\\1", , "", , )'), 'Expression_InvalidRegex', 'backreferences');
    throwsExpr(() => parseExpression(`Replace([a], , "${'a'.repeat(1_001)}", , "", , )`), 'Expression_InvalidRegex', '1000');
    // The classic catastrophic pattern: a backtracking engine takes ages on 30 characters.
    const t0 = performance.now();
    assert.equal(run('Replace([a], , "(a+)+$", , "x", , )', { a: `${'a'.repeat(5_000)}b` }), `${'a'.repeat(5_000)}b`);
    assert.ok(performance.now() - t0 < 2_000, 'linear-time matching');
    assert.equal(run('Replace([a], , "(?\'num\'\\\\d+)", , "<${num}>", , )', { a: 'ab12cd' }), 'ab<12>cd');
    assert.equal(run('Replace([a], , "(\\\\d)(\\\\d)", , "$2$1$$", , )', { a: '12' }), '21$');
    // A dynamic pattern (from an attribute) that is invalid is an evaluation error.
    throwsExpr(() => run('Replace([a], , [p], , "", , )', { a: 'x', p: '(' }), 'Expression_InvalidRegex');
  });
});

describe('semantics beyond the vectors', () => {
  test('null rules', () => {
    assert.equal(run('Left([missing], 3)'), '');
    assert.equal(run('Left("abc", -1)'), 'abc');
    assert.equal(run('Left("abc", 0)'), '');
    assert.equal(run('Word([missing], 1, " ")'), '');
    assert.equal(run('Word("a  b", 2, " ")'), 'b');
    assert.equal(run('Word("a b", 0, " ")'), '');
    assert.equal(run('Append([missing], "x")'), 'x');
    assert.equal(run('ToLower([missing])'), null);
    assert.equal(run('Mid("abc", 5, 2)'), '');
    assert.equal(run('InStr("abc", "z")'), 0);
    assert.equal(run('IsNull([missing])'), true);
    assert.equal(run('IsNull([e])', { e: '' }), false);
    assert.equal(run('IsNullOrEmpty([e])', { e: '' }), true);
    assert.equal(run('IsPresent([e])', { e: '' }), false);
    assert.equal(run('IsString([e])', { e: 'x' }), true);
    assert.equal(run('Coalesce([a], [b], "default")'), 'default');
    assert.equal(run('Coalesce([a], [b], "default")', { b: '' }), '');
    assert.equal(run('Not([IsSoftDeleted])', { IsSoftDeleted: false }), true);
    assert.equal(run('Not([IsSoftDeleted])', { IsSoftDeleted: 'True' }), false);
    assert.equal(run('Switch([x], "d", "", "empty")'), 'empty');
    assert.equal(run('Switch([x], , "a", "b")', { x: 'z' }), null);
    assert.equal(run('StripSpaces(" a\tb ")'), 'a\tb');
    assert.equal(run('NormalizeDiacritics("Łódź Straße Ærø İı")'), 'Lodz Strasse AEroe Ii');
    assert.equal(run('ToUpper("i", "tr-TR")'), 'İ');
  });

  test('IIF: an empty operand in the condition fails the evaluation (Entra: "the condition check fails")', () => {
    throwsExpr(() => run('IIF([country]="USA", "a", "b")'), 'Expression_Evaluation', 'null or empty operand');
    throwsExpr(() => run('IIF([country]="", "a", "b")', { country: 'x' }), 'Expression_Evaluation');
    assert.equal(run('IIF([country]<>"USA", "a", "b")', { country: 'NL' }), 'a');
    assert.equal(run('IIF([accountEnabled]="true", "on", "off")', { accountEnabled: true }), 'on');
    // Only the chosen branch runs: the other would fail.
    assert.equal(run('IIF(IsPresent([x]), [x], Item([y], 0))', { x: 'v' }), 'v');
  });

  test('multi-valued attributes', () => {
    const attrs = { proxyAddresses: ['SMTP:a@x', 'smtp:b@x', 'smtp:b@x'] };
    assert.equal(run('Count([proxyAddresses])', attrs), 3);
    assert.equal(run('Count([missing])'), 0);
    assert.equal(run('Item([proxyAddresses], 2)', attrs), 'smtp:b@x');
    assert.equal(run('Item([proxyAddresses], 9)', attrs), null);
    throwsExpr(() => run('Item([proxyAddresses], 0)', attrs), 'Expression_Evaluation', '1-based');
    assert.deepEqual(run('RemoveDuplicates([proxyAddresses])', attrs), ['SMTP:a@x', 'smtp:b@x']);
    assert.equal(run('Join(";", [proxyAddresses])', attrs), 'SMTP:a@x;smtp:b@x;smtp:b@x');
    throwsExpr(() => run('ToLower([proxyAddresses])', attrs), 'Expression_Evaluation', 'single value');
    const roles = { appRoleAssignments: ['Admin', 'Reader'] };
    assert.equal(run('SingleAppRoleAssignment([appRoleAssignments])', roles), 'Admin');
    assert.deepEqual(run('AppRoleAssignmentsComplex([appRoleAssignments])', roles), ['Admin', 'Reader']);
    assert.deepEqual(run('AssertiveAppRoleAssignmentsComplex([appRoleAssignments])', roles), ['Admin', 'Reader']);
    assert.equal(run('SingleAppRoleAssignment([appRoleAssignments])'), null);
  });

  test('flow sentinels: IgnoreFlowIfNullOrEmpty, IgnoreAttributeFlow, IgnoreObjectFlow', () => {
    const ev = (e: string, attrs: Record<string, ExprValue> = {}) =>
      evaluateMapping(parseExpression(e), (n) => attrs[n], { now: NOW });
    assert.deepEqual(ev('IgnoreFlowIfNullOrEmpty([x])'), { kind: 'ignoreAttribute' });
    assert.deepEqual(ev('IgnoreFlowIfNullOrEmpty([x])', { x: '' }), { kind: 'ignoreAttribute' });
    assert.deepEqual(ev('IgnoreFlowIfNullOrEmpty([x])', { x: 'v' }), { kind: 'value', value: 'v' });
    assert.deepEqual(ev('IIF(IsPresent([d]), [d], IgnoreAttributeFlow)'), { kind: 'ignoreAttribute' });
    assert.deepEqual(ev('ToUpper(IIF(IsPresent([d]), "x", IgnoreObjectFlow))'), { kind: 'ignoreObject' });
    assert.deepEqual(ev('IIF(IsPresent([d]), [d], IgnoreAttributeFlow)', { d: 'Sales' }), { kind: 'value', value: 'Sales' });
    assert.equal(run('IIF(IsPresent([d]), [d], IgnoreAttributeFlow)'), null);
  });

  test('Now, Guid and RandomString use the injected clock and random source', () => {
    assert.equal(run('Now()'), '7/2/2021 3:33:38 PM');
    assert.equal(run('Guid()', {}, { random: seeded(7) }), run('Guid()', {}, { random: seeded(7) }));
    assert.notEqual(run('Guid()', {}, { random: seeded(7) }), run('Guid()', {}, { random: seeded(8) }));
    assert.match(run('Guid()') as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(run('Guid()', {}, { random: undefined }) as string, /^[0-9a-f-]{36}$/);
    for (let seed = 0; seed < 50; seed++) {
      const s = run('RandomString(12, 2, 2, 2, 2, "0Oo1lI")', {}, { random: seeded(seed) }) as string;
      assert.equal(s.length, 12);
      assert.ok((s.match(/\d/g) ?? []).length >= 2 && (s.match(/[A-Z]/g) ?? []).length >= 2, s);
      assert.ok((s.match(/[a-z]/g) ?? []).length >= 2 && (s.match(/[^A-Za-z0-9]/g) ?? []).length >= 2, s);
      assert.ok(![...'0Oo1lI'].some((c) => s.includes(c)), s);
    }
    throwsExpr(() => run('RandomString(300, 0, 0, 0, 0)'), 'Expression_Evaluation', '256');
    throwsExpr(() => run('RandomString(3, 2, 2, 0, 0)'), 'Expression_Evaluation', 'add up');
  });

  test('AltSecIdFromNetId: the netId trimmed and lower-cased, null without one', () => {
    assert.equal(run('AltSecIdFromNetId([netId])', { netId: ' 0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B ' }), '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    assert.equal(run('AltSecIdFromNetId([netId])', { netId: '10032000ABCDEF12' }), '10032000abcdef12');
    assert.equal(run('AltSecIdFromNetId([netId])'), null);
  });

  test('DefaultDomain and dates', () => {
    assert.equal(run('DefaultDomain()', {}, { defaultDomain: 'contoso.com' }), 'contoso.com');
    assert.equal(run('DefaultDomain()'), null);
    assert.equal(run('DateAdd("m", 1, CDate("2021-01-31"))'), '2/28/2021 12:00:00 AM');
    assert.equal(run('FormatDateTime("2021-07-02 15:04:05", "yyyy-MM-dd HH:mm:ss", "M/d/yy h:mm tt")'), '7/2/21 3:04 PM');
    throwsExpr(() => run('CDate("not a date")'), 'Expression_Evaluation', 'is not a date');
    throwsExpr(() => run('DateAdd("x", 1, Now())'), 'Expression_Evaluation', 'unknown interval');
    throwsExpr(() => run('FormatDateTime("2021", , "yyyyMMdd", "yyyy")'), 'Expression_Evaluation', 'does not match');
  });

  test('attributesOf lists every source attribute once, in order', () => {
    assert.deepEqual(
      attributesOf(parseExpression('IIF([country]="USA", Join(" ", [givenName], [country]), [department])')),
      ['country', 'givenName', 'department'],
    );
    assert.deepEqual(attributesOf(parseExpression('Guid()')), []);
  });
});

describe("Graph's shapes", () => {
  test('attributeMappingSource of the documented parseExpression sample', () => {
    const src = nodeToMappingSource(parseExpression('Replace([preferredLanguage], "-", , , "_", ,  )'));
    assert.deepEqual(src, {
      expression: 'Replace([preferredLanguage], "-", , , "_", , )',
      name: 'Replace',
      parameters: [
        { key: 'source', value: { expression: '[preferredLanguage]', name: 'preferredLanguage', parameters: [], type: 'Attribute' } },
        { key: 'Find', value: { expression: '"-"', name: '-', parameters: [], type: 'Constant' } },
        { key: 'Replacement', value: { expression: '"_"', name: '_', parameters: [], type: 'Constant' } },
      ],
      type: 'Function',
    });
  });

  test('AST → Graph tree → AST keeps the meaning', () => {
    for (const [, expr, attrs, expected] of vectors) {
      const back = mappingSourceToNode(nodeToMappingSource(parseExpression(expr)));
      assert.deepEqual(evaluateExpression(back, (a) => attrs[a], { now: NOW }), expected, expr);
    }
    for (const expr of ['[mail]', '"Member"', '1', '&HF', 'vbTextCompare', 'IIF([a]>=2, [b], IgnoreObjectFlow)', 'Guid()']) {
      assert.deepEqual(mappingSourceToNode(nodeToMappingSource(parseExpression(expr))), parseExpression(expr), expr);
    }
    // Switch keys and values repeat in pairs.
    const sw = nodeToMappingSource(parseExpression('Switch([s], "d", "k1", "v1", "k2", "v2")'));
    assert.deepEqual(sw.parameters.map((p) => p.key), ['source', 'defaultValue', 'key', 'value', 'key', 'value']);
  });

  test('Graph trees as clients write them', () => {
    assert.deepEqual(mappingSourceToNode({ type: 'Attribute', name: 'mail' }), parseExpression('[mail]'));
    assert.deepEqual(mappingSourceToNode({ type: 'Constant', name: 'Member', expression: '"Member"' }), parseExpression('"Member"'));
    assert.deepEqual(
      mappingSourceToNode({ type: 'Function', name: 'AltSecIdFromNetId', expression: 'AltSecIdFromNetId([netId])', parameters: [] }),
      parseExpression('AltSecIdFromNetId([netId])'),
    );
    assert.deepEqual(
      mappingSourceToNode({
        type: 'Function',
        name: 'Replace',
        parameters: [
          { key: 'source', value: { type: 'Attribute', name: 'x' } },
          { key: 'oldValue', value: { type: 'Constant', name: '-' } },
          { key: 'replacementValue', value: { type: 'Constant', name: '_' } },
        ],
      }),
      parseExpression('Replace([x], "-", , , "_")'),
    );
  });

  test('invalid Graph trees are a 400, deep ones too', () => {
    const bad = (src: unknown, fragment: string) =>
      assert.throws(
        () => mappingSourceToNode(src),
        (e: unknown) => e instanceof DomainError && e.kind === 'badRequest' && e.message.includes(fragment),
        fragment,
      );
    bad(null, 'expected an object');
    bad({ type: 'Weird', name: 'x' }, "'type' must be");
    bad({ type: 'Attribute', name: '' }, 'Attribute needs a name');
    bad({ type: 'Function', name: 'Nope', parameters: [] }, "Unknown function 'Nope'");
    bad({ type: 'Function', name: 'Left', parameters: [{ key: 'String', value: { type: 'Constant', name: 'a' } }] }, "needs its 'NumChars'");
    bad({ type: 'Function', name: 'Left', parameters: [{ key: 'zzz', value: { type: 'Constant', name: 'a' } }] }, "no parameter 'zzz'");
    bad({ type: 'Function', name: 'Left', parameters: 'x' }, "'parameters' must be an array");
    let deep: unknown = { type: 'Attribute', name: 'a' };
    for (let i = 0; i < 5_000; i++) deep = { type: 'Function', name: 'Not', parameters: [{ key: 'source', value: deep }] };
    bad(deep, '64 levels');
  });

  test('parseExpression: the documented request gives the documented response', () => {
    const res = testExpression(
      {
        expression: 'Replace([preferredLanguage], "-", , , "_", ,  )',
        targetAttributeDefinition: null,
        testInputObject: {
          definition: null,
          properties: [
            { key: 'objectId', value: '66E4A8CC-1B7B-435E-95F8-F06CEA133828' },
            { key: 'IsSoftDeleted', value: 'false' },
            { key: 'preferredLanguage', value: 'EN-US' },
            { key: 'appRoleAssignments', 'value@odata.type': '#Collection(String)', value: ['Default Assignment'] },
          ],
        },
      },
      NOW,
    );
    assert.equal(res.parsingSucceeded, true);
    assert.equal(res.evaluationSucceeded, true);
    assert.deepEqual(res.evaluationResult, ['EN_US']);
    assert.equal(res.error, null);
    assert.equal(res.parsedExpression?.expression, 'Replace([preferredLanguage], "-", , , "_", , )');
    assert.deepEqual(testExpression({ expression: 'Split([p], ",")', testInputObject: { properties: [{ key: 'p', value: 'a,b' }] } }, NOW).evaluationResult, ['a', 'b']);
    assert.deepEqual(testExpression({ expression: 'Not([x])', testInputObject: { properties: [] } }, NOW).evaluationResult, ['True']);
  });

  test('parseExpression: parse and evaluation errors are reported in the response; bad bodies are a 400', () => {
    const p = testExpression({ expression: 'Left("a", ' }, NOW);
    assert.equal(p.parsingSucceeded, false);
    assert.equal(p.evaluationSucceeded, false);
    assert.equal(p.parsedExpression, null);
    assert.equal(p.error?.code, 'Expression_Syntax');
    assert.match(p.error?.message ?? '', /position 10/);
    const e = testExpression({ expression: 'CDate([d])', testInputObject: { properties: [{ key: 'd', value: 'nope' }] } }, NOW);
    assert.equal(e.parsingSucceeded, true);
    assert.equal(e.evaluationSucceeded, false);
    assert.equal(e.error?.code, 'Expression_Evaluation');
    const noInput = testExpression({ expression: '[a]' }, NOW);
    assert.equal(noInput.parsingSucceeded, true);
    assert.equal(noInput.evaluationSucceeded, false);
    for (const body of [null, 'x', {}, { expression: 5 }, { expression: 'x'.repeat(10_001) }, { expression: '[a]', testInputObject: { properties: 'x' } }]) {
      assert.throws(() => testExpression(body, NOW), (err: unknown) => err instanceof DomainError && err.kind === 'badRequest');
    }
  });

  test('the function catalog lists every documented function in Graph shape', () => {
    const names = expressionFunctions.map((f) => f.name);
    for (const n of [
      'Append', 'AppRoleAssignmentsComplex', 'AssertiveAppRoleAssignmentsComplex', 'BitAnd', 'CBool', 'CDate', 'Coalesce',
      'ConvertToBase64', 'ConvertToUTF8Hex', 'Count', 'CStr', 'DateAdd', 'DateDiff', 'DateFromNum', 'FormatDateTime', 'Guid',
      'IgnoreFlowIfNullOrEmpty', 'IIF', 'InStr', 'IsNull', 'IsNullOrEmpty', 'IsPresent', 'IsString', 'Item', 'Join', 'Left',
      'Mid', 'NormalizeDiacritics', 'Not', 'Now', 'NumFromDate', 'PCase', 'RandomString', 'Redact', 'RemoveDuplicates',
      'Replace', 'SelectUniqueValue', 'SingleAppRoleAssignment', 'Split', 'StripSpaces', 'Switch', 'ToLower', 'ToUpper',
      'Word', 'AppRoleAssignments', 'DefaultDomain', 'AltSecIdFromNetId',
    ]) {
      assert.ok(names.includes(n), n);
    }
    const append = expressionFunctions.find((f) => f.name === 'Append');
    assert.deepEqual(append, {
      id: 'Append',
      name: 'Append',
      parameters: [
        { allowMultipleOccurrences: false, name: 'source', required: true, type: 'String' },
        { allowMultipleOccurrences: false, name: 'suffix', required: true, type: 'String' },
      ],
    });
  });
});

// ---- properties ------------------------------------------------------------------------------------

const FUNCS: [name: string, min: number, max: number, optionalFrom: number][] = [
  ['Append', 2, 2, 2],
  ['Join', 2, 5, 1],
  ['Coalesce', 1, 4, 1],
  ['IIF', 3, 3, 3],
  ['PCase', 1, 2, 1],
  ['ToLower', 1, 2, 1],
  ['InStr', 2, 4, 2],
  ['Mid', 3, 3, 3],
  ['Guid', 0, 0, 0],
  ['Not', 1, 1, 1],
  ['IsNull', 1, 1, 1],
];

const primaryArb: fc.Arbitrary<ExprNode> = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 20, unit: 'binary' })
    .filter((s) => !/[[\]]/.test(s) && s.trim() !== '')
    .map((name) => ({ type: 'attribute', name }) as ExprNode),
  fc.string({ maxLength: 20, unit: 'binary' }).map((value) => ({ type: 'string', value }) as ExprNode),
  fc.integer({ min: -1e9, max: 1e9 }).map((n) => ({ type: 'number', text: String(n) }) as ExprNode),
  fc.nat({ max: 0xffff }).map((n) => ({ type: 'number', text: `&H${n.toString(16).toUpperCase()}` }) as ExprNode),
  fc.constantFrom('vbTextCompare', 'IgnoreAttributeFlow').map((name) => ({ type: 'keyword', name }) as ExprNode),
);

const exprArb: fc.Arbitrary<ExprNode> = fc.letrec<{ expr: ExprNode }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primaryArb,
    fc
      .tuple(fc.constantFrom('=', '<>', '>=', '<=', '>', '<'), primaryArb, primaryArb)
      .map(([op, left, right]) => ({ type: 'compare', op, left, right }) as ExprNode),
    fc.constantFrom(...FUNCS).chain(([name, min, max, optionalFrom]) =>
      fc.integer({ min, max }).chain((count) =>
        fc
          .array(tie('expr') as fc.Arbitrary<ExprNode>, { minLength: count, maxLength: count })
          .chain((args) =>
            fc
              .array(fc.boolean(), { minLength: count, maxLength: count })
              .map((omit) =>
                ({ type: 'call', name, args: args.map((a, i) => (i >= Math.max(1, optionalFrom) && omit[i] ? null : a)) }) as ExprNode,
              ),
          ),
      ),
    ),
  ),
})).expr;

/** Value or error code of an evaluation, to compare two trees' meaning. */
function outcome(n: ExprNode): unknown {
  try {
    return evaluateExpression(n, (a) => (a.length % 2 ? 'x' : null), { now: NOW, random: seeded(5) });
  } catch (e) {
    if (e instanceof ExpressionError) return e.code;
    throw e;
  }
}

describe('properties', () => {
  test('parse ∘ stringify round-trips generated trees (and Graph trees too)', () => {
    fc.assert(
      fc.property(exprArb, (n) => {
        const text = stringifyExpression(n);
        assert.deepEqual(parseExpression(text), n, text);
        // Through Graph's tree, omitted repeating arguments (Join, Coalesce) drop out: same value.
        assert.deepEqual(outcome(mappingSourceToNode(nodeToMappingSource(n))), outcome(n), text);
      }),
      { seed: 20261205, numRuns: 4_000 },
    );
  });

  const onlyExpressionErrors = (text: string) => {
    try {
      const n = parseExpression(text);
      evaluateExpression(n, () => 'x', { now: NOW, random: seeded(3) });
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
    }
  };

  test('arbitrary text never throws anything but ExpressionError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), onlyExpressionErrors), { seed: 42, numRuns: 10_000 });
    const tokens = fc.constantFrom(
      '(', ')', ',', ' ', '[a]', '[', ']', '"x"', '"', '\\', '&H', '&HF', '-1', '1.5', '=', '<>', '>=', 'Left', 'IIF', 'Replace',
      'Switch', 'Join', 'Not', 'Mid', 'DateAdd', 'CDate', 'FormatDateTime', 'vbTextCompare', 'IgnoreObjectFlow', '"(a"', '"\\\\d+"',
      '"yyyy"', '"d"', 'Now()', 'SelectUniqueValue', 'RandomString', 'Item', 'BitAnd', 'DateFromNum', '99999999999999999999',
    );
    fc.assert(
      fc.property(fc.array(tokens, { maxLength: 40 }), (parts) => onlyExpressionErrors(parts.join(''))),
      { seed: 7, numRuns: 20_000 },
    );
  });
});
