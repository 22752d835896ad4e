import { sql } from 'kysely';
// The store contract: one suite, run against every dialect through openStore. On SQLite the repositories
// are the only wall between tenants, so every method is checked with the same ids living in two tenants.
// Known gaps between dialects: none — every case below runs unchanged on SQLite and PostgreSQL. The
// concurrency case proves different things on each: on SQLite the transactions are serialized by the
// connection mutex (so it checks that nothing interleaves), on PostgreSQL they really race for the
// tenant row lock (so it checks that the lock makes sequences gapless and unique).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { UserRecord } from '../../src/domain/user.js';
import { newUser } from '../../src/directory/users.js';
import { appsRepo } from '../../src/store/repos/apps.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { documentKey, documentsRepo } from '../../src/store/repos/documents.js';
import { groupsRepo } from '../../src/store/repos/groups.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { usersRepo } from '../../src/store/repos/users.js';
import type { Database } from '../../src/store/schema.js';
import type { Db, Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const now = () => new Date().toISOString();

// Every tenant-owned table: a tenant's removal must empty each of them for that tenant only.
const tenantTables = [
  'apps', 'users', 'user_values', 'group_values', 'search_tokens', 'groups', 'group_members', 'change_log', 'tenant_documents',
] as const satisfies readonly (keyof Database)[];

async function countRows(db: Db, table: (typeof tenantTables)[number], tenantId: string): Promise<number> {
  // The directory tables key on the tenant's number (migration 009), the others on its id.
  const keyed = (['users', 'user_values', 'group_values', 'search_tokens', 'groups', 'group_members', 'change_log'] as string[]).includes(table);
  const where = keyed ? sql<boolean>`tenant_no = ${tenantKeyOf(tenantId)}` : sql<boolean>`tenant_id = ${tenantId}`;
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where(where).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function rowCounts(db: Db, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tenantTables) out[t] = await countRows(db, t, tenantId);
  return out;
}

async function addTenant(store: Store): Promise<string> {
  const id = randomUUID();
  await tenantsRepo.insert(store.db, {
    id, displayName: `T ${id.slice(0, 4)}`, domain: `${randomBytes(5).toString('hex')}.openmto.test`, createdDateTime: now(),
    data: { verifiedDomains: [] },
  });
  return id;
}

/** A user record with collection values and display-name tokens, optionally with a fixed id. */
function aUser(tenantId: string, props: { upn: string; displayName?: string; id?: string; deleted?: boolean }): UserRecord {
  const user = newUser({
    userPrincipalName: props.upn, displayName: props.displayName ?? 'Ann Example', mailNickname: 'ann', accountEnabled: true,
    mail: props.upn, otherMails: [`other.${props.upn}`],
  }, 'example.test', now());
  if (props.id) user.id = props.id;
  if (props.deleted) user.deletedDateTime = '2020-01-01T00:00:00.000Z';
  return { tenantId, user, homeTenantId: 'home-tenant', homeUserId: 'home-user', passwordHash: null, roles: [] };
}

for (const dialect of dialects()) {
  describe(`store contract (${dialect})`, () => {
    let store: Store;
    let closeStore: () => Promise<void>;
    before(async () => {
      ({ store, close: closeStore } = await openTestStore(dialect, 'c'));
    });
    after(() => closeStore());

    test('the same object id in two tenants never leaks through any users/groups/documents/apps method', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const id = randomUUID();
      await store.transaction(async (db) => {
        await usersRepo.insert(db, a, [aUser(a, { id, upn: 'same@a.test', displayName: 'Alpha Person' })]);
        await usersRepo.insert(db, b, [aUser(b, { id, upn: 'same@b.test', displayName: 'Bravo Person' })]);
      });
      assert.equal((await usersRepo.get(store.db, a, id))?.user.displayName, 'Alpha Person');
      assert.equal((await usersRepo.get(store.db, b, id))?.user.displayName, 'Bravo Person');
      assert.equal(await usersRepo.get(store.db, b, 'same@a.test'), undefined, 'UPN lookup stays in its tenant');
      assert.deepEqual((await usersRepo.getMany(store.db, a, [id])).map((r) => r.user.userPrincipalName), ['same@a.test']);
      assert.equal((await usersRepo.byHome(store.db, b, 'home-tenant', 'home-user'))?.user.userPrincipalName, 'same@b.test');
      assert.equal(await usersRepo.upnTaken(store.db, b, 'same@a.test'), false);

      // Writing through tenant B never touches A's row with the same id.
      const aValues = await countRows(store.db, 'user_values', a);
      const bRec = (await usersRepo.get(store.db, b, id))!;
      await store.transaction((db) => usersRepo.update(db, b, { ...bRec, user: { ...bRec.user, displayName: 'Bravo Renamed', otherMails: [] } }));
      const aRec = (await usersRepo.get(store.db, a, id))!;
      assert.equal(aRec.user.displayName, 'Alpha Person');
      assert.deepEqual(aRec.user.otherMails, ['other.same@a.test']);
      assert.equal(await countRows(store.db, 'user_values', a), aValues, 'A keeps its collection-value rows');
      await store.transaction((db) => usersRepo.remove(db, b, id));
      assert.ok(await usersRepo.get(store.db, a, id));
      assert.equal(await usersRepo.get(store.db, b, id), undefined);

      // A soft-deleted user is only found as deleted, and only in its tenant; expiry looks at one tenant.
      const gone = aUser(a, { upn: 'gone@a.test', deleted: true });
      await store.transaction((db) => usersRepo.insert(db, a, [gone]));
      assert.equal(await usersRepo.get(store.db, a, gone.user.id), undefined);
      assert.ok(await usersRepo.get(store.db, a, gone.user.id, true));
      assert.equal(await usersRepo.get(store.db, b, gone.user.id, true), undefined);
      assert.deepEqual(await usersRepo.expired(store.db, a, now(), 10), [gone.user.id]);
      assert.deepEqual(await usersRepo.expired(store.db, b, now(), 10), []);

      // Groups and memberships.
      await store.transaction(async (db) => {
        for (const t of [a, b]) {
          await groupsRepo.insert(db, t, { id, displayName: `G ${t}`, createdDateTime: now(), securityEnabled: true, mailEnabled: false });
        }
        await groupsRepo.addMember(db, a, id, id, 'user', now());
      });
      assert.equal((await groupsRepo.get(store.db, a, id))?.displayName, `G ${a}`);
      assert.equal(await groupsRepo.isMember(store.db, a, id, id), true);
      assert.equal(await groupsRepo.isMember(store.db, b, id, id), false);
      assert.deepEqual(await groupsRepo.members(store.db, b, id, '', 10), []);
      assert.deepEqual(await groupsRepo.memberOf(store.db, b, id, '', 10), []);
      assert.equal(await store.transaction((db) => groupsRepo.removeMember(db, b, id, id)), false);
      await store.transaction((db) => groupsRepo.remove(db, b, id));
      assert.ok(await groupsRepo.get(store.db, a, id));
      assert.equal(await groupsRepo.isMember(store.db, a, id, id), true);

      // Documents with the same kind and key.
      await store.transaction(async (db) => {
        await documentsRepo.put(db, a, 'policy', 'k', { owner: 'a' }, now());
        await documentsRepo.put(db, b, 'policy', 'k', { owner: 'b' }, now());
      });
      assert.deepEqual(await documentsRepo.get(store.db, a, 'policy', 'k'), { owner: 'a' });
      assert.equal(await store.transaction((db) => documentsRepo.remove(db, b, 'policy', 'k')), true);
      assert.deepEqual(await documentsRepo.get(store.db, a, 'policy', 'k'), { owner: 'a' });

      // Apps: a client id is only found in its own tenant.
      const clientId = randomUUID();
      await appsRepo.insert(store.db, {
        tenantId: a, clientId, displayName: 'app', secretHash: null, publicClient: true, permissions: ['User.Read.All'], createdDateTime: now(),
      });
      assert.equal((await appsRepo.get(store.db, a, clientId))?.permissions[0], 'User.Read.All');
      assert.equal(await appsRepo.get(store.db, b, clientId), undefined);
      assert.deepEqual(await appsRepo.list(store.db, b), []);

      // A record claiming another tenant is refused before anything is written.
      await assert.rejects(store.transaction((db) => usersRepo.insert(db, b, [aUser(a, { upn: 'x@a.test' })])));
    });

    test('UPN is unique per tenant, case-insensitively, but not across tenants', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      await store.transaction((db) => usersRepo.insert(db, a, [aUser(a, { upn: 'Pat@Contoso.test' })]));
      assert.equal(await usersRepo.upnTaken(store.db, a, 'pat@contoso.TEST'), true);
      assert.ok(await usersRepo.get(store.db, a, 'PAT@contoso.test'));
      await assert.rejects(store.transaction((db) => usersRepo.insert(db, a, [aUser(a, { upn: 'pat@contoso.test' })])));
      // A soft-deleted holder still blocks the UPN (a restore must not collide).
      await store.transaction((db) => usersRepo.insert(db, a, [aUser(a, { upn: 'old@contoso.test', deleted: true })]));
      await assert.rejects(store.transaction((db) => usersRepo.insert(db, a, [aUser(a, { upn: 'OLD@contoso.test' })])));
      await store.transaction((db) => usersRepo.insert(db, b, [aUser(b, { upn: 'pat@contoso.test' })]));
      assert.equal(await countRows(store.db, 'users', a), 2);
      assert.equal(await countRows(store.db, 'users', b), 1);
      const own = (await usersRepo.get(store.db, a, 'pat@contoso.test'))!;
      assert.equal(await usersRepo.upnTaken(store.db, a, 'pat@contoso.test', own.user.id), false, 'exceptId excludes the holder');
    });

    test('change-log sequences are gapless and per tenant; since() reads one tenant and one type', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const at = now();
      await store.transaction(async (db) => {
        assert.equal(await changesRepo.appendNow(db, a, [{ objectType: 'user', objectId: 'u1', change: 'created' }], at), 1);
        assert.equal(await changesRepo.appendNow(db, b, [{ objectType: 'user', objectId: 'u1', change: 'created' }], at), 1);
        assert.equal(await changesRepo.appendNow(db, a, [
          { objectType: 'group', objectId: 'g1', change: 'created' },
          { objectType: 'user', objectId: 'u1', change: 'updated', props: ['jobTitle'] },
        ], at), 3);
        assert.equal(await changesRepo.appendNow(db, a, [], at), 3, 'an empty append returns the head');
      });
      assert.equal(await changesRepo.head(store.db, a), 3);
      assert.equal(await changesRepo.head(store.db, b), 1);
      const seqs = await store.db.selectFrom('change_log').select('seq').where('tenant_no', '=', tenantKeyOf(a)).orderBy('seq').execute();
      assert.deepEqual(seqs.map((r) => Number(r.seq)), [1, 2, 3]);
      const users = await changesRepo.since(store.db, a, 'user', 0, 3, 10);
      assert.deepEqual(users.map((r) => [r.seq, r.change, r.props]), [[1, 'created', null], [3, 'updated', ['jobTitle']]]);
      assert.deepEqual((await changesRepo.since(store.db, a, 'user', 1, 2, 10)).length, 0, 'upTo bounds the read');
      assert.equal((await changesRepo.since(store.db, b, 'group', 0, 10, 10)).length, 0);
      assert.equal(await changesRepo.floor(store.db, a), 0);
    });

    test('a transaction that throws leaves nothing written', async () => {
      const a = await addTenant(store);
      const before = await rowCounts(store.db, a);
      const headBefore = await changesRepo.head(store.db, a);
      await assert.rejects(store.transaction(async (db) => {
        const u = aUser(a, { upn: 'rollback@a.test', displayName: 'Roll Back' });
        await usersRepo.insert(db, a, [u]);
        await groupsRepo.insert(db, a, { id: randomUUID(), displayName: 'Rolled', createdDateTime: now(), securityEnabled: true, mailEnabled: false, proxyAddresses: ['SMTP:x@a.test'] });
        await documentsRepo.put(db, a, 'policy', '', { v: 1 }, now());
        await changesRepo.append(db, a, [{ objectType: 'user', objectId: u.user.id, change: 'created' }], now());
        assert.ok(await usersRepo.get(db, a, u.user.id), 'visible inside the transaction');
        throw new Error('boom');
      }), /boom/);
      assert.deepEqual(await rowCounts(store.db, a), before);
      assert.equal(await changesRepo.head(store.db, a), headBefore);
      assert.ok(Object.values(before).every((n) => n === 0));
      // The store is still usable afterwards.
      await store.transaction((db) => usersRepo.insert(db, a, [aUser(a, { upn: 'after@a.test' })]));
      assert.equal(await countRows(store.db, 'users', a), 1);
    });

    test('20 concurrent transactions on one tenant append gapless unique sequences', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const writes = Array.from({ length: 20 }, (_, i) => store.transaction(async (db) => {
        const u = aUser(a, { upn: `c${i}@a.test`, displayName: `Concurrent ${i}` });
        await usersRepo.insert(db, a, [u]);
        // A second tenant's appends interleave with A's; they must not share A's counter.
        await changesRepo.append(db, b, [{ objectType: 'user', objectId: u.user.id, change: 'created' }], now());
        return changesRepo.appendNow(db, a, [
          { objectType: 'user', objectId: u.user.id, change: 'created' },
          { objectType: 'user', objectId: u.user.id, change: 'updated', props: ['displayName'] },
        ], now());
      }));
      const heads = await Promise.all(writes);
      assert.deepEqual([...heads].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
      for (const [t, n] of [[a, 40], [b, 20]] as const) {
        const rows = await store.db.selectFrom('change_log').select(['seq', 'object_id', 'change']).where('tenant_no', '=', tenantKeyOf(t)).orderBy('seq').execute();
        assert.deepEqual(rows.map((r) => Number(r.seq)), Array.from({ length: n }, (_, i) => i + 1));
        assert.equal(await changesRepo.head(store.db, t), n);
      }
      // Each transaction's pair is contiguous: created then updated of the same user.
      const rowsA = await store.db.selectFrom('change_log').select(['seq', 'object_id', 'change']).where('tenant_no', '=', tenantKeyOf(a)).orderBy('seq').execute();
      for (let i = 0; i < rowsA.length; i += 2) {
        assert.equal(rowsA[i]!.object_id, rowsA[i + 1]!.object_id);
        assert.deepEqual([rowsA[i]!.change, rowsA[i + 1]!.change], ['created', 'updated']);
      }
    });

    test('documentsRepo put/get/list/remove', async () => {
      const a = await addTenant(store);
      assert.equal(await documentsRepo.get(store.db, a, 'template'), undefined);
      await store.transaction(async (db) => {
        await documentsRepo.put(db, a, 'template', '', { singleton: true }, now());
        await documentsRepo.put(db, a, 'view', 'b', { n: 2 }, now());
        await documentsRepo.put(db, a, 'view', 'a', { n: 1 }, now());
        await documentsRepo.put(db, a, 'view', 'b', { n: 3, nested: { list: [1, 'x', null] } }, now());
      });
      assert.deepEqual(await documentsRepo.get(store.db, a, 'template'), { singleton: true });
      assert.deepEqual(await documentsRepo.list(store.db, a, 'view'), [
        { key: 'a', data: { n: 1 } }, { key: 'b', data: { n: 3, nested: { list: [1, 'x', null] } } },
      ]);
      assert.deepEqual(await documentsRepo.list(store.db, a, 'nothing'), []);
      assert.equal(await store.transaction((db) => documentsRepo.remove(db, a, 'view', 'a')), true);
      assert.equal(await store.transaction((db) => documentsRepo.remove(db, a, 'view', 'a')), false);
      assert.deepEqual((await documentsRepo.list(store.db, a, 'view')).map((d) => d.key), ['b']);
    });

    test('documentsRepo putMany/getMany: one statement for several documents, upserting', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      await store.transaction((db) => documentsRepo.putMany(db, a, [{ kind: 'policy', data: { v: 1 } }, { kind: 'view', key: 'k', data: { n: 1 } }], now()));
      await store.transaction((db) => documentsRepo.putMany(db, a, [{ kind: 'view', key: 'k', data: { n: 2 } }], now()));
      await store.transaction((db) => documentsRepo.putMany(db, b, [{ kind: 'view', key: 'other', data: { owner: 'b' } }], now()));
      const docs = await documentsRepo.getMany(store.db, a, [{ kind: 'policy' }, { kind: 'view', key: 'k' }, { kind: 'view', key: 'other' }]);
      assert.deepEqual([...docs.entries()].sort(), [[documentKey('policy'), { v: 1 }], [documentKey('view', 'k'), { n: 2 }]]);
      assert.equal((await documentsRepo.getMany(store.db, b, [{ kind: 'policy' }, { kind: 'view', key: 'k' }])).size, 0);
    });

    test('usersRepo.byAddress: UPN, mail, SMTP proxy address or otherMails; live users of one tenant; UPN first', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const make = (t: string, upn: string, props: Record<string, unknown> = {}, deleted = false) => {
        const r = aUser(t, { upn, deleted });
        Object.assign(r.user, { mail: null, otherMails: [], proxyAddresses: [] }, props);
        return r;
      };
      const byUpn = make(a, 'Pat@x.test');
      const byMail = make(a, 'm1@a.test', { mail: 'Pat@X.test' });
      const byProxy = make(a, 'm2@a.test', { proxyAddresses: ['smtp:proxy@x.test', 'SMTP:Proxy@x.test'] });
      const byProxy2 = make(a, 'm6@a.test', { proxyAddresses: ['SMTP:proxy@x.test'] });
      const byOther = make(a, 'm3@a.test', { otherMails: ['other@x.test', 'OTHER@x.test'] });
      const deleted = make(a, 'm4@a.test', { otherMails: ['gone@x.test'], proxyAddresses: ['SMTP:gone@x.test'] }, true);
      const otherTenant = make(b, 'm5@b.test', { mail: 'proxy@x.test', otherMails: ['other@x.test'] });
      await store.transaction(async (db) => {
        await usersRepo.insert(db, a, [byUpn, byMail, byProxy, byProxy2, byOther, deleted]);
        await usersRepo.insert(db, b, [otherTenant]);
      });
      const ids = async (address: string, limit = 2) => (await usersRepo.byAddress(store.db, a, address, limit)).map((r) => r.user.id);
      assert.deepEqual(await ids('PAT@x.test'), [byUpn.user.id, byMail.user.id], 'UPN match first, then mail');
      assert.deepEqual(await ids('pat@x.test', 1), [byUpn.user.id]);
      assert.deepEqual((await ids('proxy@X.TEST')).sort(), [byProxy.user.id, byProxy2.user.id].sort(),
        'each user once, however often it holds the address, so a second holder is not crowded out');
      assert.deepEqual(await ids('other@x.test'), [byOther.user.id]);
      assert.deepEqual(await ids('gone@x.test'), [], 'soft-deleted users are not matched');
      assert.deepEqual(await ids('nobody@x.test'), []);
      assert.deepEqual((await usersRepo.byAddress(store.db, a, 'other@x.test'))[0]?.user.otherMails, ['other@x.test', 'OTHER@x.test'], 'the whole record');
      assert.deepEqual((await usersRepo.byAddress(store.db, b, 'proxy@x.test')).map((r) => r.user.id), [otherTenant.user.id]);
    });

    test('tenantsRepo.remove deletes every row of that tenant only', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const sharedId = randomUUID();
      for (const t of [a, b]) {
        await store.transaction(async (db) => {
          const u = aUser(t, { upn: `p@${t}.test`, displayName: 'Pat Person', id: sharedId });
          await usersRepo.insert(db, t, [u]);
          await groupsRepo.insert(db, t, { id: sharedId, displayName: 'Team Rocket', createdDateTime: now(), securityEnabled: true, mailEnabled: true, proxyAddresses: ['SMTP:team@x.test'] });
          await groupsRepo.addMember(db, t, sharedId, sharedId, 'user', now());
          await documentsRepo.put(db, t, 'policy', '', { t }, now());
          await changesRepo.append(db, t, [{ objectType: 'user', objectId: sharedId, change: 'created' }], now());
          await appsRepo.insert(db, { tenantId: t, clientId: randomUUID(), displayName: 'a', secretHash: null, publicClient: true, permissions: [], createdDateTime: now() });
        });
      }
      const bBefore = await rowCounts(store.db, b);
      assert.ok(Object.values(bBefore).every((n) => n > 0), `every table has rows for the tenant: ${JSON.stringify(bBefore)}`);
      await store.transaction((db) => tenantsRepo.remove(db, a));
      assert.ok(Object.values(await rowCounts(store.db, a)).every((n) => n === 0));
      assert.equal(await tenantsRepo.find(store.db, a), undefined);
      assert.deepEqual(await rowCounts(store.db, b), bBefore);
      assert.ok(await tenantsRepo.find(store.db, b));
      assert.ok(await usersRepo.get(store.db, b, sharedId));
    });

    test('tenantsRepo.find by id or domain, case-insensitively', async () => {
      const a = await addTenant(store);
      const t = (await tenantsRepo.find(store.db, a))!;
      assert.equal((await tenantsRepo.find(store.db, t.domain.toUpperCase()))?.id, a);
      assert.equal((await tenantsRepo.find(store.db, a.toUpperCase()))?.id, a);
      assert.equal(await tenantsRepo.find(store.db, 'nobody.openmto.test'), undefined);
      await tenantsRepo.update(store.db, { ...t, displayName: 'Renamed', data: { verifiedDomains: ['x.test'] } });
      assert.equal((await tenantsRepo.find(store.db, a))?.displayName, 'Renamed');
      assert.deepEqual((await tenantsRepo.find(store.db, a))?.data.verifiedDomains, ['x.test']);
    });
  });
}
