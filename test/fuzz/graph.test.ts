// Property: whatever a client sends to any route of the Graph surface (every route in the app's route
// table, plus the paths in surface.ts), the answer is never a 5xx, every error is in Graph's shape
// with its request id, and a refused mutation leaves the tenant's objects and change log as they were.
// Requests go through app.inject (the same routing, hooks and parsers as the wire, without TLS).
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { dialects, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { configure } from '../helpers/sync.js';
import {
  encode, filterText, headers, mutatedBody, orderByText, queryString, reporter, SEED, searchText, segment, selectText,
} from './arbitraries.js';
import { assertClean, bodyTemplates, extraPaths, snapshot, templateFor } from './surface.js';

/** Requests per dialect: about 60 s on two cores with PostgreSQL (FUZZ_RUNS overrides, e.g. for a long soak). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 8000);
const QUERY_RUNS = Number(process.env.FUZZ_QUERY_RUNS ?? 3000);

for (const dialect of dialects()) {
  describe(`fuzz: Graph surface (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let userToken: string;
    let operatorKey: string;
    const ids: string[] = [];

    before(async () => {
      // No background sync engine: a job started by the fuzzer must not write while a snapshot is compared.
      ts = await startTestServer(dialect, { sync: false });
      a = await ts.tenant('Fuzz');
      const u1 = await ts.user(a.tenantId, { displayName: 'Ann Fuzz' });
      const u2 = await ts.user(a.tenantId, { displayName: 'Bob Fuzz' });
      userToken = await ts.userToken(a.tenantId, u1);
      operatorKey = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
      const g = await ts.request('POST', '/v1.0/groups', {
        token: a.adminToken, body: { displayName: 'Fuzzers', mailEnabled: false, mailNickname: 'fuzzers', securityEnabled: true },
      });
      await ts.request('DELETE', `/v1.0/users/${u2.id}`, { token: a.adminToken });
      ids.push(u1.id, u1.userPrincipalName, u2.id, g.body.id, a.tenantId, a.adminApp.clientId, '00000000-0000-0000-0000-000000000000');
      // A synchronization job of the tenant, so the sync routes are reached with real ids too.
      const b = await ts.tenant('Fuzz target');
      const sync = await configure(ts, a, b);
      ids.push(sync.spId, sync.jobId, b.tenantId);
    });
    after(() => ts.close());

    test(`${RUNS} hostile requests: no 5xx, Graph-shaped errors, nothing half-written`, async () => {
      const seen = new Set<string>();
      const routes = ts.server.app.routeTable
        .filter((r) => r.method !== 'HEAD')
        .map((r) => ({ method: r.method, url: r.url }))
        .filter((r) => !seen.has(`${r.method} ${r.url}`) && seen.add(`${r.method} ${r.url}`));
      for (const p of extraPaths) for (const method of ['GET', 'POST', 'PATCH']) routes.push({ method, url: `/v1.0${p}` });
      const templates = bodyTemplates(a.domain);

      const request = fc
        .record({
          route: fc.constantFrom(...routes),
          // Mostly the route's own method; sometimes another (405, or the same path's other route).
          method: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE') }),
          params: fc.array(segment(ids), { minLength: 4, maxLength: 4 }),
          query: queryString,
          headers,
          auth: fc.constantFrom('admin', 'admin', 'admin', 'admin', 'user', 'operator', 'none', 'garbage'),
        })
        .chain((r) => mutatedBody(templateFor(r.route.url, templates)).map((body) => ({ ...r, body })));

      const stats = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let i = 0;
          // A leading '//' would be a URL with a host, which no client sends as a path.
          const path = r.route.url.replace(/:[^/]+/g, () => r.params[i++ % r.params.length] ?? 'x').replace(/^\/\//, '/_/');
          const method = r.method ?? r.route.method;
          const h: Record<string, string> = { ...r.headers };
          if (r.auth === 'admin') h.authorization = `Bearer ${a.adminToken}`;
          if (r.auth === 'user') h.authorization = `Bearer ${userToken}`;
          if (r.auth === 'operator') h.authorization = `Bearer ${operatorKey}`;
          if (r.auth === 'garbage') h.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
          const hasBody = method !== 'GET' && method !== 'DELETE';
          if (hasBody) h['content-type'] ??= 'application/json';
          const payload = hasBody ? r.body : undefined;
          const mutation = method !== 'GET' && !path.endsWith('/$batch');
          const before = mutation ? await snapshot(ts, a.tenantId) : undefined;
          const res = await ts.server.app.inject({ method: method as 'GET', url: `${path}${r.query}`, headers: h, ...(payload !== undefined ? { payload } : {}) });
          const what = `${method} ${path}${r.query.slice(0, 300)}`;
          assertClean(res, what);
          stats.set(res.statusCode, (stats.get(res.statusCode) ?? 0) + 1);
          if (before && res.statusCode >= 400) {
            const now = await snapshot(ts, a.tenantId);
            if (JSON.stringify(now) !== JSON.stringify(before)) throw new Error(`${what} → ${res.statusCode} changed the tenant: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true, reporter },
      );
      if (process.env.FUZZ_STATS) console.log(`statuses: ${JSON.stringify(Object.fromEntries([...stats].sort((x, y) => x[0] - y[0])))}`);
    });

    test(`${QUERY_RUNS} list queries built from the OData grammar reach SQL: no 5xx, Graph-shaped errors`, async () => {
      // Every collection GET of the route table (no path parameters, or one id of the tenant).
      const lists = [...new Set(ts.server.app.routeTable.filter((r) => r.method === 'GET' && r.url.startsWith('/v1.0/')).map((r) => r.url))]
        .filter((u) => (u.match(/:/g) ?? []).length <= 1 && !u.endsWith('/$count'));
      const listStats = new Map<string, number>();
      const option = (name: string, value: fc.Arbitrary<string>) => fc.option(value.map((v) => `${name}=${encode(v)}`), { freq: 2 });
      const request = fc.record({
        url: fc.constantFrom(...lists),
        id: fc.constantFrom(...ids),
        eventual: fc.boolean(),
        options: fc.tuple(option('$filter', filterText), option('$search', searchText), option('$orderby', orderByText),
          option('$select', selectText), option('$top', fc.constantFrom('1', '2', '999')), option('$count', fc.constantFrom('true', 'false'))),
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const query = r.options.filter((o) => o !== null).join('&');
          const url = `${r.url.replace(/:[^/]+/, encode(r.id))}${query ? `?${query}` : ''}`;
          const headers: Record<string, string> = { authorization: `Bearer ${a.adminToken}`, ...(r.eventual ? { consistencylevel: 'eventual' } : {}) };
          const res = await ts.server.app.inject({ method: 'GET', url, headers });
          assertClean(res, `GET ${url}`);
          const key = `${res.statusCode} ${res.statusCode >= 400 ? (JSON.parse(res.payload) as { error: { code: string } }).error.code : ''}`;
          listStats.set(key, (listStats.get(key) ?? 0) + 1);
          // A page that was served can be followed: its nextLink answers too.
          const next = res.statusCode === 200 && res.headers['content-type']?.toString().startsWith('application/json') ? (JSON.parse(res.payload) as Record<string, unknown>)['@odata.nextLink'] : undefined;
          if (typeof next === 'string') {
            const u = new URL(next);
            assertClean(await ts.server.app.inject({ method: 'GET', url: `${u.pathname}${u.search}`, headers }), `GET ${u.pathname}${u.search}`);
          }
        }),
        { seed: SEED, numRuns: QUERY_RUNS, endOnFailure: true, reporter },
      );
      if (process.env.FUZZ_STATS) console.log(`list statuses: ${JSON.stringify(Object.fromEntries(listStats))}`);
    });
  });
}
