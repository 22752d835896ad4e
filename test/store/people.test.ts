// The in-memory people index (store/people) must answer exactly as SQL does: the same rows, in the same
// order, with the same $skiptoken cursors, page after page, before and after writes, on both databases.
// Every case walks whole result sets through both paths and compares them page by page; a cursor from
// one path must continue on the other.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseFilter, parseSearch } from '../../src/api/graph/odata/index.js';
import type { Actor } from '../../src/directory/access.js';
import { importUsers } from '../../src/directory/import.js';
import { deleteUser, restoreUser, updateUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { defaultUserSelect } from '../../src/domain/user.js';
import { enablePeopleIndex, type PeopleIndex } from '../../src/store/people/cache.js';
import { type Cursor, type ListQuery, type ListResult, listObjects, queryObjects } from '../../src/store/query/list.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import type { Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const clock = { now: () => new Date() };

// Names chosen to share prefixes across given name, surname and mail, with accents, a ligature and
// characters outside the BMP (sorted differently by UTF-16 and by UTF-8 unless handled).
const GIVEN = ['Ann', 'Anna', 'Annie', 'Andrés', 'Mary', 'Mar', 'Marsh', 'Zoë', 'Øystein', 'Émile', '𝒜lice', 'ﬀion', 'Sam', null];
const SURNAME = ['Smith', 'Smit', 'Marsh', 'Annand', 'Øst', 'Ängström', '𝒜bbot', 'ﬀoulkes', 'Sam', null];

/** Deterministic pseudo-random picks, so a failure reproduces. */
function picker(seed: number) {
  let s = seed;
  return <T>(xs: readonly T[]): T => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return xs[s % xs.length] as T;
  };
}

function people(n: number, domain: string): Record<string, unknown>[] {
  const pick = picker(7);
  return Array.from({ length: n }, (_, i) => {
    const given = pick(GIVEN);
    const surname = pick(SURNAME);
    const form = pick([0, 1, 2, 3]);
    const displayName = form === 0 ? `${given ?? 'X'} ${surname ?? 'Y'}` : form === 1 ? `${surname ?? 'Y'}, ${given ?? 'X'}` : form === 2 ? `${given ?? ''} van ${surname ?? ''}`.trim() : (given ?? `User ${i}`);
    const mail = pick([true, true, false]) ? `${(given ?? 'u').toLowerCase()}.${(surname ?? 'x').toLowerCase()}.${i}@example.com` : undefined;
    return {
      accountEnabled: true, displayName, mailNickname: `u${i}`, userPrincipalName: `u${String(i).padStart(4, '0')}@${domain}`,
      ...(given ? { givenName: given } : {}), ...(surname ? { surname } : {}), ...(mail ? { mail } : {}),
      ...(i % 5 === 0 ? { jobTitle: 'Engineer', department: 'R&D' } : {}),
    };
  });
}

const FILTERS = [
  "startsWith(displayName,'an')", "startsWith(displayName,'mar')", "startsWith(givenName,'an')", "startsWith(surname,'sm')",
  "startsWith(mail,'m')", "startsWith(userPrincipalName,'u00')", "startsWith(displayName,'𝒜')", "startsWith(displayName,'ø')",
  "startsWith(displayName,'mar') or startsWith(mail,'an')", "startsWith(surname,'s') or startsWith(givenName,'a') or startsWith(displayName,'z')",
  "startsWith(displayName,'nobody')",
];
const SEARCHES = [
  '"displayName:an"', '"displayName:mar"', '"displayName:𝒜"', '"displayName:van"', '"mail:an"', '"givenName:ma"',
  '"displayName:mar" OR "mail:an"', '"mail:m" OR "displayName:s" OR "surname:a"', '"displayName:sm" OR "displayName:an"',
];
const SHAPES: { render: readonly string[]; top: number }[] = [
  { render: ['id', 'displayName', 'mail'], top: 7 },
  { render: [...defaultUserSelect], top: 25 },
  { render: ['displayName', 'id'], top: 1 },
];

const queryOf = (kind: 'filter' | 'search', text: string, shape: { render: readonly string[]; top: number }, cursor?: Cursor): ListQuery => ({
  ...(kind === 'filter' ? { filter: parseFilter(text) } : { search: parseSearch(text) }),
  render: shape.render, top: shape.top, advanced: kind === 'search', count: false, deleted: false, ...(cursor ? { cursor } : {}),
});

const parsed = (r: ListResult) => ({ rows: r.rows.map((x) => ({ id: x.id, data: JSON.parse(x.data) as unknown })), next: r.next });

for (const dialect of dialects()) {
  describe(`people index (${dialect})`, () => {
    let store: Store;
    let closeStore: () => Promise<void>;
    let tenantId: string;
    let index: PeopleIndex;
    let ids: string[];
    let actor: Actor;

    before(async () => {
      ({ store, close: closeStore } = await openTestStore(dialect, 'p'));
      tenantId = randomUUID();
      const domain = `${randomBytes(5).toString('hex')}.openmto.test`;
      await tenantsRepo.insert(store.db, { id: tenantId, displayName: 'People', domain, createdDateTime: clock.now().toISOString(), data: { verifiedDomains: [] } });
      const result = await importUsers({ store, clock }, tenantId, people(400, domain));
      assert.equal(result.failed.length, 0, JSON.stringify(result.failed.slice(0, 3)));
      const page = await queryObjects(store.db, userCatalog, tenantId, { filter: parseFilter("startsWith(userPrincipalName,'u')"), top: 999, advanced: false, count: false, deleted: false });
      ids = page.rows.map((r) => r.id);
      actor = {
        principal: { tenantId, kind: 'app', appId: 'test', roles: new Set(['Directory.ReadWrite.All', 'User.ReadWrite.All']), scopes: new Set() },
        readLevel: 'all', isAdmin: false,
      };
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
      assert.equal(await index.ready(tenantId), true);
    });
    after(() => closeStore());

    /** Walks every page of a query through the index and through SQL and compares them. */
    async function sameEverywhere(kind: 'filter' | 'search', text: string) {
      for (const shape of SHAPES) {
        let cursor: Cursor | undefined;
        let pages = 0;
        do {
          const q = queryOf(kind, text, shape, cursor);
          const fromMemory = await index.list(userCatalog, tenantId, q);
          assert.ok(fromMemory, `the index must answer ${kind} ${text}`);
          const fromSql = await queryObjects(store.db, userCatalog, tenantId, q);
          assert.deepEqual(parsed(fromMemory), parsed(fromSql), `${kind} ${text}, top ${shape.top}, page ${pages + 1}`);
          // On SQLite the index's pre-rendered rows are the very bytes json_object() returns (the values are
          // SQLite's own JSON text); PostgreSQL's json_build_object spaces its output, so there it is JSON-equal.
          const raw = (r: ListResult) => r.rows.map((x) => [x.id, x.data]);
          if (dialect === 'sqlite') assert.deepEqual(raw(fromMemory), raw(fromSql), `bytes of ${kind} ${text}, top ${shape.top}, page ${pages + 1}`);
          cursor = fromSql.next;
          pages++;
        } while (cursor && pages < 500);
      }
    }

    test('every filter and search shape pages exactly as SQL does', async () => {
      for (const f of FILTERS) await sameEverywhere('filter', f);
      for (const s of SEARCHES) await sameEverywhere('search', s);
    });

    test('writes through the directory show on the next page read: update, soft delete, restore, create', async () => {
      const ctx = { store, clock };
      await updateUser(ctx, tenantId, actor, ids[0] as string, { displayName: 'Annabel Marsh-Smith', mail: 'annabel@example.com' });
      await updateUser(ctx, tenantId, actor, ids[1] as string, { givenName: null, surname: 'Smythe' });
      await deleteUser(ctx, tenantId, actor, ids[2] as string);
      await deleteUser(ctx, tenantId, actor, ids[3] as string);
      await restoreUser(ctx, tenantId, actor, ids[3] as string);
      const domain = (await tenantsRepo.find(store.db, tenantId))?.domain as string;
      await importUsers(ctx, tenantId, [{ accountEnabled: true, displayName: 'Anneliese Mar', mailNickname: 'anneliese', userPrincipalName: `anneliese@${domain}`, mail: 'an@example.com' }]);
      for (const f of FILTERS) await sameEverywhere('filter', f);
      for (const s of SEARCHES) await sameEverywhere('search', s);
      const annabel = await listObjects(store.db, userCatalog, tenantId, queryOf('search', '"displayName:annabel"', { render: ['id'], top: 5 }));
      assert.deepEqual(annabel.rows.map((r) => r.id), [ids[0]]);
      const gone = await listObjects(store.db, userCatalog, tenantId, queryOf('filter', "startsWith(userPrincipalName,'u')", { render: ['id'], top: 999 }));
      assert.ok(!gone.rows.some((r) => r.id === ids[2]), 'a soft-deleted user leaves the index');
      assert.ok(gone.rows.some((r) => r.id === ids[3]), 'a restored user comes back');
    });

    test('a cursor from SQL continues in memory and the other way round', async () => {
      const shape = { render: ['id', 'displayName'], top: 5 };
      const text = "startsWith(surname,'s') or startsWith(givenName,'a')";
      const sql1 = await queryObjects(store.db, userCatalog, tenantId, queryOf('filter', text, shape));
      const mem2 = await index.list(userCatalog, tenantId, queryOf('filter', text, shape, sql1.next));
      const sql2 = await queryObjects(store.db, userCatalog, tenantId, queryOf('filter', text, shape, sql1.next));
      assert.ok(mem2);
      assert.deepEqual(parsed(mem2), parsed(sql2));
      const sql3 = await queryObjects(store.db, userCatalog, tenantId, queryOf('filter', text, shape, mem2.next));
      const mem3 = await index.list(userCatalog, tenantId, queryOf('filter', text, shape, sql2.next));
      assert.ok(mem3);
      assert.deepEqual(parsed(mem3), parsed(sql3));
    });

    test('shapes the index does not hold go to SQL', async () => {
      const base = { top: 10, advanced: true, count: false, deleted: false } as const;
      const refused: ListQuery[] = [
        { ...base, filter: parseFilter("startsWith(displayName,'an')") }, // no render: whole objects
        { ...base, filter: parseFilter("startsWith(displayName,'an')"), render: ['id', 'passwordProfile'] },
        { ...base, filter: parseFilter("startsWith(displayName,'an') and accountEnabled eq true"), render: ['id'] },
        { ...base, filter: parseFilter("endsWith(mail,'.com')"), render: ['id'] },
        { ...base, search: parseSearch('"displayName:ann smi"'), render: ['id'] },
        { ...base, search: parseSearch('"jobTitle:eng"'), render: ['id'] },
        { ...base, filter: parseFilter("startsWith(displayName,'an')"), orderBy: [{ property: 'displayName', direction: 'asc' }], render: ['id'] },
        { ...base, filter: parseFilter("startsWith(displayName,'an')"), count: true, render: ['id'] },
        { ...base, filter: parseFilter("startsWith(displayName,'an')"), deleted: true, render: ['id'] },
      ];
      for (const q of refused) assert.equal(await index.list(userCatalog, tenantId, q), undefined, JSON.stringify(q));
    });

    test('more changes than the catch-up limit drop the index until it is rebuilt', async () => {
      const small = enablePeopleIndex(store.db, { maxUsers: 100_000, rebuildAfter: 2 });
      assert.equal(await small.ready(tenantId), true);
      const q = queryOf('filter', "startsWith(displayName,'zz')", { render: ['id'], top: 5 });
      assert.ok(await small.list(userCatalog, tenantId, q));
      for (const id of ids.slice(10, 13)) await updateUser({ store, clock }, tenantId, actor, id, { displayName: `Zz ${id.slice(0, 4)}` });
      assert.equal(await small.list(userCatalog, tenantId, q), undefined, 'three changes with a limit of two: rebuild');
      assert.equal(await small.ready(tenantId), true);
      const fromMemory = await small.list(userCatalog, tenantId, q);
      assert.ok(fromMemory);
      assert.deepEqual(parsed(fromMemory), parsed(await queryObjects(store.db, userCatalog, tenantId, q)));
      assert.equal(fromMemory.rows.length, 3);
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });

    test('a tenant over the budget stays on SQL', async () => {
      const tiny = enablePeopleIndex(store.db, { maxUsers: 10 });
      assert.equal(await tiny.ready(tenantId), false);
      const q = queryOf('filter', "startsWith(displayName,'an')", { render: ['id'], top: 5 });
      assert.equal(await tiny.list(userCatalog, tenantId, q), undefined);
      const page = await listObjects(store.db, userCatalog, tenantId, q);
      assert.equal(page.rows.length, 5);
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });

    test('a tenant the sweep no longer lists loses its index; the next query builds it again', async () => {
      const held = enablePeopleIndex(store.db, { maxUsers: 100_000 });
      assert.equal(await held.ready(tenantId), true);
      held.retain([]);
      assert.deepEqual(held.status().tenants, []);
      const q = queryOf('filter', "startsWith(displayName,'an')", { render: ['id'], top: 5 });
      assert.equal(await held.list(userCatalog, tenantId, q), undefined, 'answered by SQL while it rebuilds');
      assert.equal(await held.ready(tenantId), true);
      assert.deepEqual(parsed((await held.list(userCatalog, tenantId, q)) as ListResult), parsed(await queryObjects(store.db, userCatalog, tenantId, q)));
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });

    test('a tenant not searched for idleSeconds is evicted, listed as evicted, and built again on its next search', async () => {
      let t = Date.parse('2030-01-01T00:00:00Z');
      const testClock = { now: () => new Date(t) };
      const other = randomUUID();
      const domain = `${randomBytes(5).toString('hex')}.openmto.test`;
      await tenantsRepo.insert(store.db, { id: other, displayName: 'Other', domain, createdDateTime: clock.now().toISOString(), data: { verifiedDomains: [] } });
      await importUsers({ store, clock }, other, people(30, domain));
      const idle = enablePeopleIndex(store.db, { maxUsers: 100_000, idleSeconds: 60, clock: testClock });
      assert.equal(await idle.ready(tenantId), true);
      assert.equal(await idle.ready(other), true);
      const q = queryOf('filter', "startsWith(displayName,'an')", { render: ['id', 'displayName'], top: 5 });
      t += 50_000;
      assert.ok(await idle.list(userCatalog, tenantId, q), 'searched at 50 s');
      t += 50_000;
      assert.deepEqual(idle.evictIdle(), [other], 'only the tenant idle for 100 s goes');
      const state = (id: string) => idle.status().tenants.find((x) => x.tenantId === id);
      assert.equal(state(other)?.status, 'evicted');
      assert.equal(state(other)?.evicted, new Date(t).toISOString());
      assert.equal(state(tenantId)?.status, 'ready');
      assert.equal(idle.heldUsers, state(tenantId)?.users);
      // A search of one tenant sweeps the others: 70 s on, the first is idle too (searched 120 s ago).
      t += 70_000;
      assert.equal(await idle.list(userCatalog, other, q), undefined, 'SQL answers while the evicted tenant is built again');
      assert.equal(state(tenantId)?.status, 'evicted', 'the search swept the idle tenant');
      assert.equal(state(other)?.status, 'building');
      assert.equal(await idle.ready(other), true);
      assert.deepEqual(parsed((await idle.list(userCatalog, other, q)) as ListResult), parsed(await queryObjects(store.db, userCatalog, other, q)));
      assert.equal(idle.heldUsers, 30);
      assert.equal(idle.status().bytes, state(other)?.bytes);
      // retain() still drops what a deleted tenant left, evicted or not.
      idle.retain([other]);
      assert.equal(state(tenantId), undefined);
      idle.stop();
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });

    test('the byte estimate is kept as users change, as a fresh build counts it', async () => {
      const kept = enablePeopleIndex(store.db, { maxUsers: 100_000 });
      assert.equal(await kept.ready(tenantId), true);
      const before = kept.status();
      assert.ok(before.bytesPerUser !== null && before.bytesPerUser > 300 && before.bytesPerUser < 5000, `${before.bytesPerUser} B/user`);
      const ctx = { store, clock };
      await deleteUser(ctx, tenantId, actor, ids[31] as string);
      assert.equal(await kept.ready(tenantId), true);
      const shrunk = kept.status().bytes;
      assert.ok(shrunk < before.bytes, 'a deleted user gives its bytes back');
      await updateUser(ctx, tenantId, actor, ids[30] as string, { displayName: `Someone With A Much Longer Name ${'x'.repeat(200)}` });
      assert.equal(await kept.ready(tenantId), true);
      const grown = kept.status().bytes;
      assert.ok(grown > shrunk + 400, 'a 200-character longer name costs its characters in the column, the JSON and a token');
      const fresh = enablePeopleIndex(store.db, { maxUsers: 100_000 });
      assert.equal(await fresh.ready(tenantId), true);
      // Values shared while an old version was held may stay shared: within 1 %.
      assert.ok(Math.abs(fresh.status().bytes - grown) < grown / 100, `${fresh.status().bytes} vs ${grown}`);
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });

    // Last: it prunes the tenant's change log.
    test('a change log pruned past the index drops it, and the rebuilt one has the change', async () => {
      const behind = enablePeopleIndex(store.db, { maxUsers: 100_000 });
      assert.equal(await behind.ready(tenantId), true);
      const q = queryOf('filter', "startsWith(displayName,'pruned')", { render: ['id'], top: 5 });
      // The index has not read this change when the history behind it goes.
      await updateUser({ store, clock }, tenantId, actor, ids[20] as string, { displayName: 'Pruned Person' });
      const later = new Date(Date.now() + 60_000).toISOString();
      await store.transaction((db) => changesRepo.prune(db, tenantId, later, later));
      assert.equal(await behind.list(userCatalog, tenantId, q), undefined);
      assert.equal(await behind.ready(tenantId), true);
      assert.deepEqual(((await behind.list(userCatalog, tenantId, q)) as ListResult).rows.map((r) => r.id), [ids[20]]);
      index = enablePeopleIndex(store.db, { maxUsers: 100_000 });
    });
  });
}
