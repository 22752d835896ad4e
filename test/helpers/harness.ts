// Test harness: a real openmto server over HTTPS on 127.0.0.1 (random port), on SQLite or PostgreSQL,
// plus builders for tenants, apps, users and tokens, and clients from the real Microsoft libraries.
// The test runner (scripts/test.mjs) trusts test/fixtures/tls/cert.pem via NODE_EXTRA_CA_CERTS.
import type { SchedulerOptions } from '../../src/sync/index.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import pg from 'pg';
import type { Clock } from '../../src/domain/clock.js';
import { importUsers } from '../../src/directory/import.js';
import { createApp, createTenant, type CreatedTenant } from '../../src/identity/tenants.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { openStore, type Store } from '../../src/store/store.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

export type DialectName = 'sqlite' | 'postgres';

const here = dirname(fileURLToPath(import.meta.url));
export const fixtureTls = join(here, '..', 'fixtures', 'tls');

/** SQLite always; PostgreSQL when OPENMTO_TEST_PG holds a postgres:// URL (CI sets it). */
export function dialects(): DialectName[] {
  return process.env.OPENMTO_TEST_PG ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * A store of its own on `dialect`: an in-memory SQLite database, or a private PostgreSQL schema that
 * `close()` drops again, so suites never see each other's rows.
 */
export async function openTestStore(dialect: DialectName, prefix = 's'): Promise<{ store: Store; close(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const store = dialect === 'postgres' ? await openStore({ url: pgUrl(), schema }) : await openStore({ url: ':memory:' });
  return {
    store,
    async close() {
      await store.close();
      if (dialect !== 'postgres') return;
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

/** A clock tests can move forward (token expiry, 30-day purge, delta token lifetime). */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface TestTenant extends CreatedTenant {
  /** An app token holding every application permission. */
  adminToken: string;
}

export interface TestUser {
  id: string;
  userPrincipalName: string;
  password: string;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  port: number;
  clock: TestClock;
  dialect: DialectName;
  tenant(name?: string): Promise<TestTenant>;
  /** A confidential app with exactly these application permissions; returns its token. */
  appToken(tenantId: string, permissions: string[]): Promise<string>;
  /** Creates a user with a password (directly through the import use case) and returns it. */
  user(tenantId: string, props?: Record<string, unknown> & { roles?: string[] }): Promise<TestUser>;
  /** A delegated token for a user (password grant through a public client of the tenant). */
  userToken(tenantId: string, user: TestUser): Promise<string>;
  /** Raw HTTPS request; returns status, headers and parsed body. */
  request(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected freely
  body: any;
  text: string;
}

const pgUrl = () => process.env.OPENMTO_TEST_PG ?? '';

export async function startTestServer(dialect: DialectName = 'sqlite', options: { clock?: TestClock; sync?: SchedulerOptions | false } = {}): Promise<TestServer> {
  const clock = options.clock ?? new TestClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'openmto-test-'));
  cpSync(fixtureTls, join(dataDir, 'tls'), { recursive: true });
  const schema = dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const server = await startServer({
    dataDir,
    databaseUrl: dialect === 'postgres' ? pgUrl() : ':memory:',
    port: 0,
    host: '127.0.0.1',
    http: false,
    demo: false,
    clock,
    ...(schema ? { schema } : {}),
    ...(options.sync !== undefined ? { sync: options.sync } : {}),
  });
  const url = server.url;
  const port = Number(new URL(url).port);
  const publicClients = new Map<string, string>();

  const request: TestServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /$count)
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  const tokenFor = async (tenantId: string, form: Record<string, string>) => {
    const res = await fetch(`${url}/${tenantId}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
    const json = (await res.json()) as { access_token?: string; error_description?: string };
    if (!json.access_token) throw new Error(`token request failed: ${json.error_description}`);
    return json.access_token;
  };

  const ts: TestServer = {
    server, url, port, clock, dialect,
    async tenant(name = `Tenant ${randomBytes(3).toString('hex')}`) {
      const created = await createTenant(server.store, clock, { name, domain: `${randomBytes(5).toString('hex')}.openmto.test` });
      const adminToken = await tokenFor(created.tenantId, {
        grant_type: 'client_credentials', client_id: created.adminApp.clientId, client_secret: created.adminApp.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      });
      return { ...created, adminToken };
    },
    async appToken(tenantId, permissions) {
      const app = await createApp(server.store, clock, tenantId, { name: 'test app', permissions });
      return tokenFor(tenantId, {
        grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret ?? '',
        scope: 'https://graph.microsoft.com/.default',
      });
    },
    async user(tenantId, props = {}) {
      const t = await server.store.db.selectFrom('tenants').select('domain').where('id', '=', tenantId).executeTakeFirstOrThrow();
      const alias = `u${randomBytes(4).toString('hex')}`;
      const password = `Pw-${randomBytes(6).toString('hex')}A1`;
      const body = {
        userPrincipalName: `${alias}@${t.domain}`, displayName: `User ${alias}`, mailNickname: alias, accountEnabled: true,
        passwordProfile: { password }, ...props,
      };
      const result = await importUsers({ store: server.store, clock }, tenantId, [body]);
      if (result.failed.length) throw new Error(`user create failed: ${result.failed[0]?.message}`);
      const row = await server.store.db.selectFrom('users').select('id')
        .where('tenant_no', '=', tenantKeyOf(tenantId)).where('upn_lc', '=', String(body.userPrincipalName).toLowerCase()).executeTakeFirstOrThrow();
      return { id: row.id, userPrincipalName: String(body.userPrincipalName), password };
    },
    async userToken(tenantId, user) {
      let clientId = publicClients.get(tenantId);
      if (!clientId) {
        clientId = (await createApp(server.store, clock, tenantId, { name: 'public', permissions: [], publicClient: true })).clientId;
        publicClients.set(tenantId, clientId);
      }
      return tokenFor(tenantId, {
        grant_type: 'password', client_id: clientId, username: user.userPrincipalName, password: user.password,
        scope: 'https://graph.microsoft.com/.default',
      });
    },
    request,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const c = new pg.Client({ connectionString: pgUrl() });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      }
    },
  };
  return ts;
}

/** The Microsoft Graph JS client (v3) pointed at a test server with a fixed token. */
export function graphClient(ts: TestServer, token: string, version: 'v1.0' | 'beta' = 'v1.0'): Client {
  return Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => token },
    baseUrl: `${ts.url}/`,
    defaultVersion: version,
    customHosts: new Set(['127.0.0.1']),
  });
}

/** Collects every item of a collection through the SDK's PageIterator (it follows @odata.nextLink). */
export async function iterateAll(client: Client, first: PageCollection): Promise<unknown[]> {
  const items: unknown[] = [];
  const it = new PageIterator(client, first, (item) => {
    items.push(item);
    return true;
  });
  await it.iterate();
  return items;
}

export const newId = () => randomUUID();

/** Polls `check` every 50 ms until it returns something truthy; fails naming `what` after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, ms = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
