// user_values rows the users row implies (repos/userData.ts): a user holding exactly the `SMTP:<mail>` proxy
// address and the UPN identity it was created with has no user_values row for them, and every reader gives
// the same answers as when the rows were written. Held to a reference evaluation in JavaScript over the
// stored Graph objects: proxyAddresses/identities filters (rows and counts), byAddress, byAddresses; users
// whose items are implied and users whose are not (custom proxy addresses, extra identities, no mail, mail
// and UPN changed after creation, an issuer SQL can't lower-case). Migration 013 on rows written before it.
// Both databases.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { parseFilter } from '../../src/api/graph/odata/index.js';
import { newUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { reverseText } from '../../src/domain/odata.js';
import { proxyAddressesFor, type UserRecord } from '../../src/domain/user.js';
import { queryObjects } from '../../src/store/query/list.js';
import { syncReads } from '../../src/store/repos/syncReads.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { tenantNo } from '../../src/store/repos/tenantKeys.js';
import { usersRepo } from '../../src/store/repos/users.js';
import type { Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';
import { type OldStore, storeAt } from '../helpers/migrations.js';

const now = () => new Date().toISOString();
const DOMAIN = 'Contoso.Example';

type U = Record<string, unknown> & { id: string };

/** The users: [name, user]; `implied` says which of its items the row implies (no user_values row). */
function people(tenantId: string): { name: string; record: UserRecord; implied: { proxy: boolean; identity: boolean } }[] {
  const mk = (name: string, props: Record<string, unknown>, edit: (u: U) => void = () => {}, issuer = DOMAIN) => {
    const user = newUser({ displayName: name, accountEnabled: true, mailNickname: name, ...props }, issuer, now()) as unknown as U;
    edit(user);
    return { tenantId, user, homeTenantId: null, homeUserId: null, passwordHash: null, roles: [] } as unknown as UserRecord;
  };
  const out = [
    { name: 'plain', record: mk('plain', { userPrincipalName: 'Ann.Lee@contoso.example', mail: 'Ann.Lee@Contoso.example' }), implied: { proxy: true, identity: true } },
    { name: 'short', record: mk('short', { userPrincipalName: 'p@x.test', mail: 'p@x.test' }), implied: { proxy: true, identity: true } },
    {
      name: 'custom', implied: { proxy: false, identity: true },
      record: mk('custom', { userPrincipalName: 'bob@contoso.example', mail: 'bob@contoso.example' },
        (u) => { u.proxyAddresses = ['SMTP:bob@contoso.example', 'smtp:alias@other.test', 'X500:/o=Contoso/cn=bob']; }),
    },
    { name: 'nomail', record: mk('nomail', { userPrincipalName: 'nomail@contoso.example' }), implied: { proxy: false, identity: true } },
    {
      // mail changed after creation: the old address stays as a secondary one.
      name: 'moved', implied: { proxy: false, identity: true },
      record: mk('moved', { userPrincipalName: 'moved@contoso.example', mail: 'old@contoso.example' },
        (u) => { u.mail = 'New@Contoso.example'; u.proxyAddresses = proxyAddressesFor('New@Contoso.example', u.proxyAddresses as string[]); }),
    },
    {
      // mail changed by hand without its proxy address: SMTP:<old> is no longer what mail implies.
      name: 'stale', implied: { proxy: false, identity: true },
      record: mk('stale', { userPrincipalName: 'stale@contoso.example', mail: 'was@contoso.example' }, (u) => { u.mail = 'now@contoso.example'; }),
    },
    {
      // UPN changed, identity kept: no longer the UPN identity.
      name: 'renamed', implied: { proxy: true, identity: false },
      record: mk('renamed', { userPrincipalName: 'before@contoso.example', mail: 'renamed@contoso.example' },
        (u) => { u.userPrincipalName = 'after@contoso.example'; }),
    },
    {
      // UPN changed with its identity (directory/users.ts does): implied again.
      name: 'renamed2', implied: { proxy: true, identity: true },
      record: mk('renamed2', { userPrincipalName: 'before2@contoso.example', mail: 'renamed2@contoso.example' }, (u) => {
        u.userPrincipalName = 'After2@contoso.example';
        u.identities = [{ signInType: 'userPrincipalName', issuer: DOMAIN, issuerAssignedId: 'After2@contoso.example' }];
      }),
    },
    {
      name: 'extra', implied: { proxy: true, identity: false },
      record: mk('extra', { userPrincipalName: 'extra@contoso.example', mail: 'extra@contoso.example' }, (u) => {
        (u.identities as unknown[]).push({ signInType: 'emailAddress', issuer: 'idp.example', issuerAssignedId: 'Ext-12@Mail.test' });
      }),
    },
    {
      // SQL's lower() (ASCII only on SQLite) can't fold this issuer as JavaScript does: its row is written.
      name: 'unicode', implied: { proxy: true, identity: false },
      record: mk('unicode', { userPrincipalName: 'uni@contoso.example', mail: 'uni@contoso.example' }, () => {}, 'ÉCOLE.Example'),
    },
    {
      name: 'unicode2', implied: { proxy: true, identity: true },
      record: mk('unicode2', { userPrincipalName: 'uni2@contoso.example', mail: 'uni2@contoso.example' }, () => {}, 'école.EXAMPLE'),
    },
    {
      name: 'empty', implied: { proxy: false, identity: false },
      record: mk('empty', { userPrincipalName: 'empty@contoso.example', mail: 'empty@contoso.example' }, (u) => { u.proxyAddresses = []; u.identities = []; }),
    },
    {
      name: 'absent', implied: { proxy: false, identity: false },
      record: mk('absent', { userPrincipalName: 'absent@contoso.example', mail: 'absent@contoso.example' }, (u) => { delete u.proxyAddresses; delete u.identities; }),
    },
    {
      // Another user whose proxy address is the plain user's mail (and whose mail is the custom one's alias).
      name: 'twin', implied: { proxy: false, identity: true },
      record: mk('twin', { userPrincipalName: 'twin@contoso.example', mail: 'alias@other.test' },
        (u) => { u.proxyAddresses = ['SMTP:alias@other.test', 'smtp:ann.lee@contoso.example']; u.otherMails = ['P@x.test']; }),
    },
    {
      // Soft-deleted: its rows stay, lists of live users and the address lookups leave it out.
      name: 'gone', implied: { proxy: true, identity: true },
      record: mk('gone', { userPrincipalName: 'gone@contoso.example', mail: 'ann.lee@contoso.example' }, (u) => { u.deletedDateTime = now(); }),
    },
  ];
  return out;
}

// The reference: OData's any() over the stored objects, strings compared lower-cased.
const fold = (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : s);
const strings = (u: U, coll: string) => ((u[coll] ?? []) as unknown[]).filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.toLowerCase());
const proxy = (p: (x: string) => boolean) => (u: U) => strings(u, 'proxyAddresses').some(p);
type Identity = { signInType?: string; issuer?: string; issuerAssignedId?: string };
const identity = (p: (i: Identity) => boolean) => (u: U) =>
  ((u.identities ?? []) as Identity[]).map((i) => ({ signInType: fold(i.signInType), issuer: fold(i.issuer), issuerAssignedId: fold(i.issuerAssignedId) }) as Identity).some(p);
const sw = (x: string, p: string) => x.startsWith(p.toLowerCase());
const ew = (x: string, p: string) => x.endsWith(p.toLowerCase());
const eq = (x: string | undefined, p: string) => x === p.toLowerCase();

const FILTERS: [string, (u: U) => boolean][] = [
  ["proxyAddresses/any(x:x eq 'smtp:ann.lee@contoso.example')", proxy((x) => eq(x, 'smtp:ann.lee@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'SMTP:Ann.Lee@Contoso.Example')", proxy((x) => eq(x, 'smtp:ann.lee@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'smtp:alias@other.test')", proxy((x) => eq(x, 'smtp:alias@other.test'))],
  ["proxyAddresses/any(x:x eq 'smtp:bob@contoso.example')", proxy((x) => eq(x, 'smtp:bob@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'smtp:old@contoso.example')", proxy((x) => eq(x, 'smtp:old@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'smtp:now@contoso.example')", proxy((x) => eq(x, 'smtp:now@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'smtp:was@contoso.example')", proxy((x) => eq(x, 'smtp:was@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'ann.lee@contoso.example')", proxy((x) => eq(x, 'ann.lee@contoso.example'))],
  ["proxyAddresses/any(x:x eq 'smtp:')", proxy((x) => eq(x, 'smtp:'))],
  ["proxyAddresses/any(x:x eq 'smtp:ann.lee@contoso.example' or x eq 'smtp:p@x.test')", proxy((x) => eq(x, 'smtp:ann.lee@contoso.example') || eq(x, 'smtp:p@x.test'))],
  ["proxyAddresses/any(x:startsWith(x,'smtp:a'))", proxy((x) => sw(x, 'smtp:a'))],
  ["proxyAddresses/any(x:startsWith(x,'SMTP:uni'))", proxy((x) => sw(x, 'smtp:uni'))],
  ["proxyAddresses/any(x:startsWith(x,'smt'))", proxy((x) => sw(x, 'smt'))],
  ["proxyAddresses/any(x:startsWith(x,'smtp:'))", proxy((x) => sw(x, 'smtp:'))],
  ["proxyAddresses/any(x:startsWith(x,'x500'))", proxy((x) => sw(x, 'x500'))],
  ["proxyAddresses/any(x:startsWith(x,'s'))", proxy((x) => sw(x, 's'))],
  ["proxyAddresses/any(x:startsWith(x,'a'))", proxy((x) => sw(x, 'a'))],
  ["proxyAddresses/any(x:startsWith(x,'smtp:a') and endsWith(x,'.test'))", proxy((x) => sw(x, 'smtp:a') && ew(x, '.test'))],
  ["proxyAddresses/any(x:endsWith(x,'@contoso.example'))", proxy((x) => ew(x, '@contoso.example'))],
  ["proxyAddresses/any(x:endsWith(x,'.TEST'))", proxy((x) => ew(x, '.test'))],
  ["proxyAddresses/any(x:endsWith(x,':p@x.test'))", proxy((x) => ew(x, ':p@x.test'))],
  ["proxyAddresses/any(x:endsWith(x,'p:p@x.test'))", proxy((x) => ew(x, 'p:p@x.test'))],
  ["proxyAddresses/any(x:endsWith(x,'smtp:p@x.test'))", proxy((x) => ew(x, 'smtp:p@x.test'))],
  ["proxyAddresses/any(x:endsWith(x,'xsmtp:p@x.test'))", proxy((x) => ew(x, 'xsmtp:p@x.test'))],
  ["proxyAddresses/any(x:endsWith(x,'tp:ann.lee@contoso.example'))", proxy((x) => ew(x, 'tp:ann.lee@contoso.example'))],
  ["proxyAddresses/any(x:endsWith(x,'p@x.test'))", proxy((x) => ew(x, 'p@x.test'))],
  ["proxyAddresses/any(x:endsWith(x,'bob'))", proxy((x) => ew(x, 'bob'))],
  ["mail eq 'bob@contoso.example' or proxyAddresses/any(x:x eq 'smtp:p@x.test')", (u) => fold(u.mail) === 'bob@contoso.example' || proxy((x) => eq(x, 'smtp:p@x.test'))(u)],
  ["proxyAddresses/any(x:x eq 'smtp:p@x.test') and accountEnabled eq true", (u) => u.accountEnabled === true && proxy((x) => eq(x, 'smtp:p@x.test'))(u)],
  ["otherMails/any(x:x eq 'p@x.test')", (u) => strings(u, 'otherMails').includes('p@x.test')],
  ["identities/any(i:i/issuerAssignedId eq 'ann.lee@contoso.example' and i/issuer eq 'contoso.example')",
    identity((i) => eq(i.issuerAssignedId, 'ann.lee@contoso.example') && eq(i.issuer, 'contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'Ann.Lee@Contoso.Example' and i/issuer eq 'CONTOSO.EXAMPLE')",
    identity((i) => eq(i.issuerAssignedId, 'ann.lee@contoso.example') && eq(i.issuer, 'contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'ann.lee@contoso.example' and i/issuer eq 'other.example')",
    identity((i) => eq(i.issuerAssignedId, 'ann.lee@contoso.example') && eq(i.issuer, 'other.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'before@contoso.example')", identity((i) => eq(i.issuerAssignedId, 'before@contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'after@contoso.example')", identity((i) => eq(i.issuerAssignedId, 'after@contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'after2@contoso.example')", identity((i) => eq(i.issuerAssignedId, 'after2@contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'before2@contoso.example')", identity((i) => eq(i.issuerAssignedId, 'before2@contoso.example'))],
  ["identities/any(i:i/issuerAssignedId eq 'ext-12@mail.test' and i/issuer eq 'idp.example')",
    identity((i) => eq(i.issuerAssignedId, 'ext-12@mail.test') && eq(i.issuer, 'idp.example'))],
  ["identities/any(i:i/issuer eq 'contoso.example')", identity((i) => eq(i.issuer, 'contoso.example'))],
  ["identities/any(i:i/issuer eq 'école.example')", identity((i) => eq(i.issuer, 'école.example'))],
  ["identities/any(i:i/issuer eq 'ÉCOLE.EXAMPLE')", identity((i) => eq(i.issuer, 'école.example'))],
  ["identities/any(i:i/issuer eq 'École.example' and i/issuerAssignedId eq 'uni2@contoso.example')",
    identity((i) => eq(i.issuer, 'école.example') && eq(i.issuerAssignedId, 'uni2@contoso.example'))],
  ["identities/any(i:i/signInType eq 'userPrincipalName')", identity((i) => eq(i.signInType, 'userprincipalname'))],
  ["identities/any(i:i/signInType eq 'emailAddress')", identity((i) => eq(i.signInType, 'emailaddress'))],
  ["identities/any(i:i/signInType eq 'USERPRINCIPALNAME' and i/issuerAssignedId eq 'p@x.test')",
    identity((i) => eq(i.signInType, 'userprincipalname') && eq(i.issuerAssignedId, 'p@x.test'))],
  ["identities/any(i:i/signInType eq 'userPrincipalName' or i/issuer eq 'idp.example')",
    identity((i) => eq(i.signInType, 'userprincipalname') || eq(i.issuer, 'idp.example'))],
];

function addressHolders(users: readonly U[], address: string): string[] {
  const a = address.toLowerCase();
  return users.filter((u) => u.deletedDateTime === null && (
    fold(u.userPrincipalName) === a || fold(u.mail) === a ||
    ((u.proxyAddresses ?? []) as string[]).some((p) => fold(p) === `smtp:${a}`) ||
    ((u.otherMails ?? []) as string[]).some((p) => fold(p) === a))).map((u) => u.id).sort();
}

const ADDRESSES = ['ann.lee@contoso.example', 'Ann.Lee@Contoso.Example', 'p@x.test', 'alias@other.test', 'bob@contoso.example', 'old@contoso.example',
  'new@contoso.example', 'was@contoso.example', 'now@contoso.example', 'renamed@contoso.example', 'nobody@contoso.example', 'empty@contoso.example'];

async function valueRows(store: Store, tenantId: string) {
  const no = await tenantNo(store.db, tenantId);
  return (await sql<{ user_id: string; attr: string; v1: string; v1_rev: string | null; v2: string | null; v3: string | null }>`
    SELECT user_id, attr, v1, v1_rev, v2, v3 FROM user_values WHERE tenant_no = ${no} ORDER BY user_id, attr, ord`.execute(store.db)).rows;
}

/** Every filter, page and count, against the reference; every address lookup against its reference. */
async function sameAnswers(store: Store, tenantId: string, users: readonly U[]) {
  const live = users.filter((u) => u.deletedDateTime === null);
  for (const [f, holds] of FILTERS) {
    const want = live.filter(holds).map((u) => u.id).sort();
    const page = await queryObjects(store.db, userCatalog, tenantId, { filter: parseFilter(f), top: 999, advanced: true, count: true, deleted: false });
    assert.deepEqual(page.rows.map((r) => r.id).sort(), want, f);
    assert.equal(page.count, want.length, `count: ${f}`);
  }
  for (const a of ADDRESSES) {
    const want = addressHolders(users, a);
    assert.deepEqual((await usersRepo.byAddress(store.db, tenantId, a, 10)).map((r) => r.user.id).sort(), want, `byAddress ${a}`);
    assert.deepEqual((await syncReads.byAddresses(store.db, tenantId, [a.toLowerCase()])).map((r) => r.user.id).sort(), want, `byAddresses ${a}`);
    // limit 1: a holder (the UPN or mail one first), none if there is none.
    const one = await usersRepo.byAddress(store.db, tenantId, a, 1);
    assert.equal(one.length, Math.min(1, want.length), `byAddress ${a} limit 1`);
    if (one[0]) assert.ok(want.includes(one[0].user.id));
  }
  assert.deepEqual((await syncReads.byAddresses(store.db, tenantId, ADDRESSES.map((a) => a.toLowerCase()))).map((r) => r.user.id).sort(),
    [...new Set(ADDRESSES.flatMap((a) => addressHolders(users, a)))].sort());
}

/** The user_values rows the code before 013 wrote for one user (users.ts valueRows, every item). */
function oldValueRows(no: number, u: U) {
  const rows: Record<string, unknown>[] = [];
  const push = (attr: string, items: unknown, reversed: boolean) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, ord) => {
      if (typeof item !== 'string' || item === '') return;
      const v1 = item.toLowerCase();
      rows.push({ tenant_no: no, user_id: u.id, attr, ord, v1, v1_rev: reversed ? reverseText(v1) : null, v2: null, v3: null });
    });
  };
  push('otherMails', u.otherMails, true);
  push('proxyAddresses', u.proxyAddresses, true);
  push('businessPhones', u.businessPhones, false);
  ((u.identities ?? []) as Record<string, unknown>[]).forEach((id, ord) => {
    rows.push({
      tenant_no: no, user_id: u.id, attr: 'identities', ord, v1: fold(id.issuerAssignedId) ?? '', v1_rev: null, v2: fold(id.issuer) ?? null,
      v3: fold(id.signInType) ?? null,
    });
  });
  return rows;
}

async function addTenant(store: Store): Promise<string> {
  const tenantId = randomUUID();
  await tenantsRepo.insert(store.db, {
    id: tenantId, displayName: 'Implied', domain: `${randomBytes(5).toString('hex')}.openmto.test`, createdDateTime: now(), data: { verifiedDomains: [] },
  });
  return tenantId;
}

for (const dialect of dialects()) {
  describe(`user_values the users row implies (${dialect})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openTestStore(dialect, 'iv'));
    });
    after(() => close());

    test('no row for an implied item; every filter and address lookup answers as the stored objects say', async () => {
      const tenantId = await addTenant(store);
      const list = people(tenantId);
      await usersRepo.insert(store.db, tenantId, list.map((p) => p.record));
      const rows = await valueRows(store, tenantId);
      for (const p of list) {
        const u = p.record.user as unknown as U;
        const has = (attr: string) => rows.some((r) => r.user_id === u.id && r.attr === attr);
        const proxies = ((u.proxyAddresses ?? []) as string[]).length > 0;
        const identities = ((u.identities ?? []) as unknown[]).length > 0;
        assert.equal(has('proxyAddresses'), proxies && !p.implied.proxy, `${p.name}: proxyAddresses row`);
        assert.equal(has('identities'), identities && !p.implied.identity, `${p.name}: identities row`);
      }
      const users = list.map((p) => p.record.user as unknown as U);
      await sameAnswers(store, tenantId, users);

      // Updates move a user between the two forms: custom → implied, implied → custom.
      const plain = list.find((p) => p.name === 'plain')!.record;
      const custom = list.find((p) => p.name === 'custom')!.record;
      plain.user.proxyAddresses = ['SMTP:Ann.Lee@Contoso.example', 'smtp:ann@second.test'];
      custom.user.proxyAddresses = ['SMTP:bob@contoso.example'];
      custom.user.userPrincipalName = 'Robert@contoso.example';
      custom.user.identities = [{ signInType: 'userPrincipalName', issuer: DOMAIN, issuerAssignedId: 'Robert@contoso.example' }];
      await usersRepo.update(store.db, tenantId, plain);
      await usersRepo.update(store.db, tenantId, custom);
      const after = await valueRows(store, tenantId);
      assert.ok(after.some((r) => r.user_id === plain.user.id && r.attr === 'proxyAddresses'));
      assert.ok(!after.some((r) => r.user_id === custom.user.id && (r.attr === 'proxyAddresses' || r.attr === 'identities')));
      await sameAnswers(store, tenantId, users);
      const reads = await usersRepo.getMany(store.db, tenantId, users.map((u) => u.id));
      for (const r of reads) assert.deepEqual(r.user, users.find((u) => u.id === r.user.id), 'objects read back unchanged');
    });

    test('migration 013 removes the implied rows written before it, and only those', async () => {
      let old: OldStore | undefined;
      try {
        old = await storeAt(dialect, 'm013', '012_compact_provisioning_log');
        const tenantId = await addTenant(old.store);
        const list = people(tenantId);
        await usersRepo.insert(old.store.db, tenantId, list.map((p) => p.record));
        const no = await tenantNo(old.store.db, tenantId);
        // As the code before 013 left them: every item's row.
        await sql`DELETE FROM user_values WHERE tenant_no = ${no}`.execute(old.store.db);
        const users = list.map((p) => p.record.user as unknown as U);
        for (const u of users) {
          for (const r of oldValueRows(no, u)) await old.store.db.insertInto('user_values').values(r as never).execute();
        }
        const before = await valueRows(old.store, tenantId);
        await old.upgrade();
        const upgraded = await valueRows(old.store, tenantId);
        const implied = (r: { user_id: string; attr: string }) => {
          const p = list.find((x) => x.record.user.id === r.user_id)!;
          return (r.attr === 'proxyAddresses' && p.implied.proxy) || (r.attr === 'identities' && p.implied.identity);
        };
        assert.ok(before.some(implied));
        assert.deepEqual(upgraded, before.filter((r) => !implied(r)));
        // What the store writes now for the same users.
        const fresh = await addTenant(old.store);
        await usersRepo.insert(old.store.db, fresh, people(fresh).map((p) => p.record));
        assert.equal((await valueRows(old.store, fresh)).length, upgraded.length);
        await sameAnswers(old.store, tenantId, users);
      } finally {
        await old?.dispose();
      }
    });
  });
}
