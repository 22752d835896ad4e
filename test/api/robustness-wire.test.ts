// Errors raised before Graph handling (Node's HTTP parser, the router, the body parsers) in the shape
// of the surface, request ids on every answer as Graph sends them, and every 5xx in the log with its
// request id and stack but nothing secret (defect classes 5 and 12).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { sql } from 'kysely';
import { createTenant } from '../../src/identity/tenants.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { dialects, fixtureTls, startTestServer, TestClock, type TestServer, type TestTenant } from '../helpers/harness.js';

/** Sends raw bytes over TLS and returns the raw answer (for requests no HTTP client would send). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost' }, () => socket.end(bytes));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => { out += d; });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

for (const dialect of dialects()) {
  describe(`robustness: errors before Graph handling, request ids (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Wire');
    });
    after(() => ts.close());

    test('5. an oversized URL is a 431 in Graph shape', async () => {
      const res = await ts.request('GET', `/v1.0/users?$filter=${'x'.repeat(20_000)}`, { token: a.adminToken });
      assert.equal(res.status, 431);
      assert.equal(res.body.error.code, 'Request_HeaderFieldsTooLarge');
      assert.ok(res.body.error.innerError['request-id']);
      assert.equal(res.headers.get('request-id'), res.body.error.innerError['request-id']);
    });

    test('5. a malformed request line or header is a 400 in Graph shape', async () => {
      for (const bytes of ['GET /v1.0/users HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n', 'GET /v1.0/us ers x HTTP/1.1\r\nHost: x\r\n\r\n', 'GARBAGE\r\n\r\n']) {
        const answer = await raw(ts.port, bytes);
        assert.match(answer, /^HTTP\/1\.1 400 /, answer);
        assert.equal(bodyOf(answer).error.code, 'BadRequest');
      }
    });

    test('5. framework errors on the OAuth endpoints are in OAuth shape', async () => {
      for (const [method, path] of [['GET', `/${a.tenantId}/oauth2/v2.0/token`], ['POST', `/${a.tenantId}/oauth2/v2.0/authorize`], ['POST', `/${a.tenantId}/oauth2/v2.0/token`]] as const) {
        const res = await ts.request(method, path, method === 'POST' ? { body: '{bad', headers: { 'content-type': 'application/json' } } : {});
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status}`);
        assert.equal(typeof res.body.error, 'string', res.text);
        assert.equal(typeof res.body.error_description, 'string', res.text);
      }
      // GET authorize is a page for a person: a request it can't trust with a redirect is an HTML error page.
      const page = await ts.request('GET', `/${a.tenantId}/oauth2/v2.0/authorize`);
      assert.equal(page.status, 400);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.text, /role="alert"/);
      // Graph's surface keeps Graph's shape for the same failures.
      const g = await ts.request('POST', '/v1.0/users', { token: a.adminToken, body: '{bad' });
      assert.equal(g.body.error.code, 'BadRequest');
    });

    test('12. request-id and client-request-id on every answer; the client id is echoed', async () => {
      const client = 'c0ffee00-1111-2222-3333-444455556666';
      const ok = await ts.request('GET', '/v1.0/users', { token: a.adminToken, headers: { 'client-request-id': client } });
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(ok.headers.get('client-request-id'), client);
      const err = await ts.request('GET', '/v1.0/users/nope', { token: a.adminToken, headers: { 'client-request-id': client } });
      assert.equal(err.body.error.innerError['client-request-id'], client);
      assert.equal(err.body.error.innerError['request-id'], err.headers.get('request-id'));
      assert.match(err.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      // Without one, client-request-id repeats the request id (as Graph does); an unprintable one is not echoed.
      const none = await ts.request('GET', '/v1.0/users', { token: a.adminToken });
      assert.equal(none.headers.get('client-request-id'), none.headers.get('request-id'));
      const unauth = await ts.request('GET', '/v1.0/users', { headers: { 'client-request-id': client } });
      assert.equal(unauth.status, 401);
      assert.equal(unauth.headers.get('client-request-id'), client);
      const token = await ts.request('POST', `/${a.tenantId}/oauth2/v2.0/token`, { body: 'grant_type=x', headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': client } });
      assert.equal(token.body.correlation_id, client);
      assert.equal(token.body.trace_id, token.headers.get('request-id'));
    });
  });
}

describe('robustness: every 5xx is logged with its request id and stack, nothing secret (default settings)', () => {
  let server: RunningServer;
  let dataDir: string;
  let log = '';
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'openmto-log-'));
    cpSync(fixtureTls, join(dataDir, 'tls'), { recursive: true });
    const stream = new PassThrough();
    stream.on('data', (d) => { log += String(d); });
    server = await startServer({ dataDir, databaseUrl: ':memory:', port: 0, host: '127.0.0.1', http: false, demo: false, clock: new TestClock(), logStream: stream });
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a failing store write: 500 in Graph shape, one error line with id and stack; no token, password or secret', async () => {
    const t = await createTenant(server.store, new TestClock(), { name: 'Log', domain: 'log.openmto.test' });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: t.adminApp.clientId, client_secret: t.adminApp.clientSecret, scope: 'https://graph.microsoft.com/.default' });
    const { access_token: token } = (await (await fetch(`${server.url}/${t.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: form })).json()) as { access_token: string };
    await sql.raw(`CREATE TRIGGER refuse_user BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'test: user row refused'); END`).execute(server.store.db);
    const password = 'Sekr3t!Passw0rd-log';
    const res = await fetch(`${server.url}/v1.0/users?ticket=topsecretticket`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'client-request-id': 'log-test-1' },
      body: JSON.stringify({ accountEnabled: true, displayName: 'L', mailNickname: 'l', userPrincipalName: 'l@log.openmto.test', passwordProfile: { password } }),
    });
    const body = (await res.json()) as { error: { code: string; innerError: Record<string, string> } };
    assert.equal(res.status, 500);
    assert.equal(body.error.code, 'InternalServerError');
    await new Promise((r) => setTimeout(r, 50));
    const lines = log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.requestId === body.error.innerError['request-id']);
    assert.ok(line, `a log line for request ${body.error.innerError['request-id']}: ${log.slice(0, 500)}`);
    assert.equal(line.level, 50);
    assert.match(String((line.err as { stack?: string }).stack), /test: user row refused\n\s+at /);
    for (const secret of [token, password, t.adminApp.clientSecret, 'topsecretticket']) assert.ok(!log.includes(secret), 'nothing secret in the log');
    // 4xx are the client's business: not logged at the default level.
    const before = log.length;
    await fetch(`${server.url}/v1.0/users/nope`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(log.length, before);
  });
});
