// Compact user rows (migration 011, store/repos/userData.ts): what `data` leaves out comes back from the
// row exactly (same properties, same values; absent stays absent), the database renders every property
// as the JavaScript reader does, and a database written before 011 reads the same after it, in less space.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { newB2bUser } from '../../src/b2b/factory.js';
import { newUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { allUserProperties, type UserRecord } from '../../src/domain/user.js';
import { listObjects } from '../../src/store/query/list.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { packUser, unpackUser } from '../../src/store/repos/userData.js';
import { fromRow, toRow, usersRepo } from '../../src/store/repos/users.js';
import type { UserRow } from '../../src/store/schema.js';
import { type OldStore, storeAt } from '../helpers/migrations.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const at = '2026-01-02T03:04:05.678Z';
const record = (tenantId: string, user: UserRecord['user'], extra: Partial<UserRecord> = {}): UserRecord => ({
  tenantId, user, homeTenantId: null, homeUserId: null, passwordHash: null, roles: [], ...extra,
});

/** Users that exercise every rule: defaults and not, lower case and not, absent, null, empty, odd identities. */
function samples(tenantId: string): UserRecord[] {
  const plain = newUser({
    userPrincipalName: 'ann@example.test', displayName: 'Ann Example', mailNickname: 'ann', accountEnabled: true, mail: 'ann@example.test',
    givenName: 'Ann', surname: 'Example', jobTitle: 'vp', department: 'Engineering',
  }, 'example.test', at);
  const mixed = newUser({
    userPrincipalName: 'Bob.Mixed@Example.test', displayName: 'bob lower', mailNickname: 'Bob', accountEnabled: false, mail: 'Bob@Example.test',
    userType: 'Guest', businessPhones: ['+1 555'], otherMails: ['b@other.test'], showInAddressList: false, employeeId: 'e1', companyName: '',
    identities: [{ signInType: 'emailAddress', issuer: 'example.test', issuerAssignedId: 'bob@x.test' }],
  }, 'example.test', at);
  mixed.proxyAddresses = ['SMTP:Bob@Example.test', 'smtp:old@example.test'];
  mixed.deletedDateTime = '2026-02-01T00:00:00.000Z';
  const noMail = newUser({ userPrincipalName: 'nomail@example.test', displayName: 'No Mail', mailNickname: 'nomail', accountEnabled: true, mail: null }, 'example.test', at);
  const emptyMail = newUser({ userPrincipalName: 'empty@example.test', displayName: 'Empty', mailNickname: 'empty', accountEnabled: true, mail: '' }, 'example.test', at);
  // The UPN identity after a UPN change that did not follow it: not the default, kept whole.
  const stale = newUser({ userPrincipalName: 'stale@example.test', displayName: 'Stale', mailNickname: 'stale', accountEnabled: true }, 'example.test', at);
  stale.identities = [{ signInType: 'userPrincipalName', issuer: 'example.test', issuerAssignedId: 'old@example.test' }];
  // A hand-built object without most of what a new user has: nothing may be added on the way back.
  const bare = { id: randomUUID(), userPrincipalName: 'bare@example.test', displayName: 'Bare', accountEnabled: true, userType: 'Member' as const, createdDateTime: at };
  const b2b = newB2bUser({
    tenantId, tenantDomain: 'example.test', email: 'guest@home.test', upn: 'guest_home.test#EXT#@example.test', mailNickname: 'guest_home.test#EXT#',
    displayName: 'Guest Person', userType: 'Guest', now: at, home: { tenantId: randomUUID(), userId: randomUUID() },
  });
  return [
    record(tenantId, plain, { roles: ['Global Administrator'] }), record(tenantId, mixed, { syncJobs: ['job1'] }), record(tenantId, noMail),
    record(tenantId, emptyMail), record(tenantId, stale), record(tenantId, bare), { ...b2b, tenantId },
  ];
}

describe('user data codec', () => {
  test('unpack(pack(user)) is the user: every property, no more, and the default user packs small', () => {
    for (const r of samples('t')) {
      const row = toRow(r, 1);
      const back = fromRow(row, 't');
      assert.deepEqual(back, r, r.user.userPrincipalName);
      assert.deepEqual(Object.keys(back.user).sort(), Object.keys(r.user).sort(), r.user.userPrincipalName);
    }
    const plain = toRow(samples('t')[2] as UserRecord, 1);
    assert.ok(plain.data.length < 80, `a default user's data is ${plain.data}`);
  });

  test('a whole object (a row written before migration 011) packs as a new write packs it', () => {
    for (const r of samples('t')) {
      const row = toRow(r, 1);
      const whole = JSON.stringify({ ...r.user, ...(r.roles.length ? { '@openmto.roles': r.roles } : {}), ...(r.syncJobs ? { '@openmto.syncJobs': r.syncJobs } : {}) });
      assert.equal(packUser(JSON.parse(whole), row), row.data);
      assert.deepEqual(unpackUser(row.data, row), JSON.parse(whole));
    }
  });
});

for (const dialect of dialects()) {
  describe(`compact user rows (${dialect})`, () => {
    let close: (() => Promise<void>) | undefined;
    after(() => close?.());

    test('list pages render every property from the row as the object read in JavaScript has it', async () => {
      const opened = await openTestStore(dialect, 'ud');
      close = opened.close;
      const { store } = opened;
      const tenantId = randomUUID();
      await tenantsRepo.insert(store.db, { id: tenantId, displayName: 'T', domain: `${randomBytes(5).toString('hex')}.test`, createdDateTime: at, data: { verifiedDomains: [] } });
      const records = samples(tenantId);
      await store.transaction((db) => usersRepo.insert(db, tenantId, records));
      const keys = [...allUserProperties];
      for (const deleted of [false, true]) {
        const page = await listObjects(store.db, userCatalog, tenantId, { top: 50, advanced: false, count: false, deleted, render: keys });
        const whole = await listObjects(store.db, userCatalog, tenantId, { top: 50, advanced: false, count: false, deleted });
        assert.ok(page.rows.length > 0);
        for (const row of page.rows) {
          const r = records.find((x) => x.user.id === row.id) as UserRecord;
          const expected = Object.fromEntries(keys.map((k) => [k, r.user[k] ?? null]));
          if (dialect === 'sqlite') assert.equal(row.data, JSON.stringify(expected), r.user.userPrincipalName);
          // PostgreSQL's json_build_object spaces its own keys ("k" : v); each value must still be the stored text.
          assert.deepEqual(JSON.parse(row.data), expected, r.user.userPrincipalName);
          for (const v of Object.values(expected)) if (v !== null) assert.ok(row.data.includes(JSON.stringify(v)), `${JSON.stringify(v)} in ${row.data}`);
          const w = whole.rows.find((x) => x.id === row.id);
          assert.deepEqual(JSON.parse(w?.data ?? ''), { ...r.user, ...(r.roles.length ? { '@openmto.roles': r.roles } : {}), ...(r.syncJobs ? { '@openmto.syncJobs': r.syncJobs } : {}) });
        }
      }
    });
  });

  describe(`migration 011: compact users (${dialect})`, () => {
    let old: OldStore | undefined;
    after(() => old?.dispose());

    test('rows written whole before it read the same after it, and take less space', async () => {
      old = await storeAt(dialect, 'm11', '010_authorization_codes');
      const { store } = old;
      const db = store.db;
      const tenantId = randomUUID();
      await tenantsRepo.insert(db, { id: tenantId, displayName: 'T', domain: 'm11.test', createdDateTime: at, data: { verifiedDomains: [] } });
      // Written as before 011: the whole object in `data`. More rows than a migration page, so paging is crossed.
      const records: UserRecord[] = [];
      for (let i = 0; i < 1100; i++) {
        records.push(record(tenantId, newUser({
          userPrincipalName: `u${i}@m11.test`, displayName: `User ${i}`, mailNickname: `u${i}`, accountEnabled: i % 2 === 0, mail: `u${i}@m11.test`,
        }, 'm11.test', at)));
      }
      records.push(...samples(tenantId));
      const no = Number((await sql<{ no: number }>`select no from tenants where id = ${tenantId}`.execute(db)).rows[0]?.no);
      const wholeRow = (r: UserRecord): UserRow => {
        const row = toRow(r, no);
        return { ...row, data: JSON.stringify({ ...r.user, ...(r.roles.length ? { '@openmto.roles': r.roles } : {}), ...(r.syncJobs ? { '@openmto.syncJobs': r.syncJobs } : {}) }) };
      };
      for (const r of records) await db.insertInto('users').values(wholeRow(r)).execute();
      const bytes = async () => Number((await sql<{ n: number }>`select sum(length(data)) as n from users`.execute(db)).rows[0]?.n);
      const before = await bytes();
      const keys = [...allUserProperties];
      const pageBefore = await listObjects(db, userCatalog, tenantId, { top: 999, advanced: false, count: false, deleted: false, render: keys });

      await old.upgrade();

      assert.ok(await bytes() < before / 3, `data ${await bytes()} bytes after, ${before} before`);
      for (const r of records) {
        assert.deepEqual(await usersRepo.get(db, tenantId, r.user.id, Boolean(r.user.deletedDateTime)), r, r.user.userPrincipalName);
      }
      const pageAfter = await listObjects(db, userCatalog, tenantId, { top: 999, advanced: false, count: false, deleted: false, render: keys });
      assert.deepEqual(pageAfter, pageBefore);
      // Delta and the sync engine take whole objects as text.
      const first = records[0] as UserRecord;
      const [whole] = await usersRepo.objects(db, tenantId, [first.user.id]);
      assert.deepEqual(JSON.parse(whole?.data ?? ''), first.user);
    });
  });
}
