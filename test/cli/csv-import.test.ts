// The bulk-add CSV reader (directory/csvImport.ts), pure: both admin-center layouts, BOM and CRLF, quoted
// commas and line breaks, and every kind of bad row reported by file line and column.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exportCsvHeader, exportCsvRow, M365_COLUMNS, parseUserCsv, temporaryPassword, userKind } from '../../src/directory/csvImport.js';
import { validatePasswordComplexity } from '../../src/domain/user.js';

const HEADER = M365_COLUMNS.map(([h]) => h).join(',');
const domains = ['contoso.test'];
/** A row in the admin center's 16 columns from the few given. */
const row = (f: Partial<Record<string, string>>) => M365_COLUMNS.map(([h]) => f[h] ?? '').join(',');

describe('bulk-add CSV', () => {
  test('the Microsoft 365 layout with a BOM, CRLF, quoted commas and a quoted line break', () => {
    const text = `\uFEFF${HEADER}\r\n${row({ 'User Name': 'ann@contoso.test', 'First Name': 'Ann', 'Display Name': '"Ann, the first"', 'Office Phone': '+1 555 0100', 'Alternate email address': 'ann@home.example' })}\r\n`
      + `${row({ 'User Name': 'ben@contoso.test', 'Display Name': 'Ben', Address: '"1 Main St\r\nSuite 2"', City: 'Oslo' })}\r\n\r\n`
      + `${row({ 'User Name': 'cy@contoso.test', 'Display Name': 'Cy' })}\r\n`;
    const r = parseUserCsv(text, domains);
    assert.deepEqual(r.problems, []);
    assert.equal(r.layout, 'm365');
    assert.deepEqual(r.users.map((u) => u.line), [2, 3, 6]);
    assert.deepEqual(r.users[0]!.body, {
      accountEnabled: true, userPrincipalName: 'ann@contoso.test', givenName: 'Ann', displayName: 'Ann, the first', businessPhones: ['+1 555 0100'],
      otherMails: ['ann@home.example'], mailNickname: 'ann',
    });
    assert.equal(r.users[1]!.body.streetAddress, '1 Main St\nSuite 2');
  });

  test('the header without "Alternate email address" (older template) and in another case', () => {
    const cols = M365_COLUMNS.filter(([h]) => h !== 'Alternate email address').map(([h]) => h.toUpperCase());
    const r = parseUserCsv(`${cols.join(',')}\ncat@contoso.test,,,Cat${',' .repeat(cols.length - 4)}\n`, domains);
    assert.deepEqual(r.problems, []);
    assert.equal(r.users[0]!.body.displayName, 'Cat');
  });

  test('the Entra bulk-create template: version line, bracket headers, example row, Block sign in, initial password', () => {
    const text = [
      'version:v1.0',
      'Name [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required,First name [givenName],Job title [jobTitle],Office [physicalDeliveryOfficeName],Office phone [telephoneNumber],Mobile phone [mobile]',
      'Example: Chris Green,chris@contoso.com,Password1!,No,Chris,Manager,B1,555,556',
      'Dee,dee@contoso.test,Str0ng!pass,Yes,Dee,Engineer,B2,+1 555,',
    ].join('\n');
    const r = parseUserCsv(text, domains);
    assert.deepEqual(r.problems, []);
    assert.equal(r.layout, 'entra');
    assert.equal(r.users.length, 1);
    assert.equal(r.users[0]!.line, 4);
    assert.equal(r.users[0]!.password, 'Str0ng!pass');
    assert.deepEqual(r.users[0]!.body, {
      accountEnabled: false, displayName: 'Dee', userPrincipalName: 'dee@contoso.test', givenName: 'Dee', jobTitle: 'Engineer', officeLocation: 'B2',
      businessPhones: ['+1 555'], mailNickname: 'dee',
    });
  });

  test('bad rows are reported by line and column, and the good rows are not enough to pass', () => {
    const text = [
      HEADER,
      row({ 'User Name': 'ok@contoso.test', 'Display Name': 'Ok' }),
      row({ 'User Name': 'nodisplay@contoso.test' }),
      row({ 'User Name': 'x@elsewhere.test', 'Display Name': 'Wrong domain' }),
      row({ 'User Name': 'OK@contoso.test', 'Display Name': 'Duplicate' }),
      row({ 'User Name': 'long@contoso.test', 'Display Name': 'Long', Department: 'd'.repeat(65) }),
      row({ 'User Name': 'bad space@contoso.test', 'Display Name': 'Bad UPN' }),
      `${row({ 'User Name': 'extra@contoso.test', 'Display Name': 'Extra' })},surplus`,
    ].join('\n');
    const r = parseUserCsv(text, domains);
    assert.deepEqual(r.users.map((u) => u.line), [2]);
    assert.deepEqual(r.problems.map((p) => [p.line, p.column]), [
      [3, 'Display Name'], [4, 'User Name'], [5, 'User Name'], [6, 'Department'], [7, 'User Name'], [8, null],
    ]);
    assert.match(r.problems[2]!.message, /also on line 2/);
    assert.match(r.problems[3]!.message, /65 characters; at most 64/);
    assert.match(r.problems[1]!.message, /verified domain/);
  });

  test('file-level problems: unknown column, missing required column, bad version, empty, broken quoting', () => {
    assert.deepEqual(parseUserCsv(`${HEADER},Shoe Size\n`, domains).problems, [{ line: 1, column: 'Shoe Size', message: 'unknown column' }]);
    assert.match(parseUserCsv('First Name,Display Name\nA,B\n', domains).problems[0]!.message, /no userPrincipalName column/);
    assert.match(parseUserCsv('version:v2.0\nName [displayName] Required\n', domains).problems[0]!.message, /unsupported template/);
    assert.match(parseUserCsv('', domains).problems[0]!.message, /empty/);
    assert.match(parseUserCsv(`${HEADER}\n`, domains).problems[0]!.message, /no users/);
    const broken = parseUserCsv(`${HEADER}\nann@contoso.test,"unterminated\n`, domains);
    assert.equal(broken.users.length, 0);
    assert.match(broken.problems[0]!.message, /not a readable CSV file/);
    const badPw = parseUserCsv('version:v1.0\nName [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required\nE,e@contoso.test,weak,maybe\n', domains);
    assert.deepEqual(badPw.problems.map((p) => [p.line, p.column]), [[3, 'Initial password [passwordProfile] Required'], [3, 'Block sign in (Yes/No) [accountEnabled] Required']]);
  });

  test('an export row parses back to the same user; temporary passwords pass complexity and differ', () => {
    const user = {
      id: 'id-1', userPrincipalName: 'q@contoso.test', displayName: 'Quote "Q", Esq.', accountEnabled: true, userType: 'Member' as const, createdDateTime: '',
      givenName: 'Q', jobTitle: 'CEO', businessPhones: ['1'], city: 'Bergen',
    };
    const r = parseUserCsv(exportCsvHeader(true) + exportCsvRow(user, true), domains);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.users[0]!.body, { accountEnabled: true, userPrincipalName: 'q@contoso.test', givenName: 'Q', displayName: 'Quote "Q", Esq.', jobTitle: 'CEO', businessPhones: ['1'], city: 'Bergen', mailNickname: 'q' });
    const pws = new Set(Array.from({ length: 50 }, temporaryPassword));
    assert.equal(pws.size, 50);
    for (const p of pws) validatePasswordComplexity(p);
  });

  test('user kinds', () => {
    assert.equal(userKind({ userType: 'Member', userPrincipalName: 'a@x' }), 'internal');
    assert.equal(userKind({ userType: 'Guest', userPrincipalName: 'a@x' }), 'internalGuest');
    assert.equal(userKind({ userType: 'Member', userPrincipalName: 'a_y#EXT#@x', creationType: 'Invitation' }), 'b2bMember');
    assert.equal(userKind({ userType: 'Guest', userPrincipalName: 'a@x', externalUserState: 'PendingAcceptance' }), 'b2bGuest');
  });
});
