// Soak: the real server (a child process, SQLite, as `npm start` runs it) under mixed reads and writes
// from 8 clients for 10 minutes. Passes with zero errors and a flat RSS; records p50/p99 per operation.
// Not in CI. `npm run soak` (10 min), `npm run soak -- --seconds 60` for a short check,
// `--record` writes the result into BENCHMARKS.md (between the soak markers).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, log, pct, repoRoot, round, run, sleep } from './env.js';
import { type BenchTenant, createTenantCli, type HttpsClient, startServer } from './server.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SECONDS = Number(flag('--seconds') ?? process.env.SOAK_SECONDS ?? 600);
const CLIENTS = Number(flag('--clients') ?? 8);
// RSS is sampled this often; "flat" compares the mean of the last quarter of samples with the second's.
const RSS_SAMPLE_MS = 2000;
// Users made before the clock starts, so reads and searches have something to find from the first second.
const SEED_USERS = 2000;

type Op = 'create' | 'patch' | 'get' | 'search' | 'filter' | 'delete' | 'token' | 'count';
// Weights: mostly reads, as a directory sees, with a steady stream of writes.
// Creates and deletes balance (a delete also purges the user from deleted items), so the directory, and
// with it SQLite's page cache and mapped pages, stays about the same size: RSS growth is then the server's.
const mix: [Op, number][] = [['get', 25], ['search', 20], ['filter', 15], ['count', 5], ['create', 10], ['patch', 12], ['delete', 10], ['token', 3]];

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

function pick(): Op {
  let r = Math.random() * 100;
  for (const [op, w] of mix) {
    r -= w;
    if (r < 0) return op;
  }
  return 'get';
}

const names = ['ann', 'bob', 'car', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim', 'lea', 'max', 'ned', 'ola', 'pam'];

async function main() {
  const dir = join(dataRoot, 'runs', 'soak');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const domain = 'soak.openmto.test';
  const tenant: BenchTenant = await createTenantCli(dir, 'Soak', domain);
  const server = await startServer(dir, 'soak-server');
  const errors: string[] = [];
  const ms = new Map<Op, number[]>(mix.map(([op]) => [op, []]));
  const rss: number[] = [];
  const heap: number[] = [];
  try {
    const token = await server.client.token(tenant);
    const clients: HttpsClient[] = [];
    const { HttpsClient: Client } = await import('./server.js');
    const ca = readFileSync(join(dir, 'tls/cert.pem'), 'utf8');
    for (let i = 0; i < CLIENTS; i++) clients.push(new Client(server.port, ca));
    const ids: string[] = [];
    const userBody = () => {
      const alias = `${names[Math.floor(Math.random() * names.length)]}${randomBytes(4).toString('hex')}`;
      return {
        accountEnabled: true, displayName: `${alias[0]!.toUpperCase()}${alias.slice(1)} Soak`, mailNickname: alias,
        userPrincipalName: `${alias}@${domain}`, givenName: alias.slice(0, 3), surname: 'Soak', jobTitle: 'Tester',
      };
    };
    // Graph creates need a password (a scrypt hash each, as in production); the seed is imported without.
    const newUser = () => JSON.stringify({ ...userBody(), passwordProfile: { password: `Soak-${randomBytes(6).toString('hex')}9a` } });
    log(`seeding ${SEED_USERS} users`);
    const seedFile = join(dir, 'seed.jsonl');
    writeFileSync(seedFile, Array.from({ length: SEED_USERS }, () => JSON.stringify(userBody())).join('\n'));
    await run(process.execPath, [join(repoRoot, 'bin/openmto.mjs'), 'user', 'import', '--tenant', tenant.tenantId, '--file', seedFile, '--data', dir], { cwd: repoRoot, logName: 'soak-seed' });
    for (let page = `/v1.0/users?$select=id&$top=999`; page; ) {
      const r = JSON.parse((await server.client.send('GET', page, { token })).body) as { value: { id: string }[]; '@odata.nextLink'?: string };
      ids.push(...r.value.map((u) => u.id));
      page = r['@odata.nextLink'] ? r['@odata.nextLink'].replace(/^https:\/\/[^/]+/, '') : '';
    }
    if (ids.length !== SEED_USERS) throw new Error(`seeded ${ids.length} users, not ${SEED_USERS}`);
    log(`soak: ${CLIENTS} clients for ${SECONDS} s`);
    const end = Date.now() + SECONDS * 1000;
    const sampler = (async () => {
      while (Date.now() < end) {
        rss.push(rssKb(server.pid));
        const m = (await server.client.send('GET', '/metrics')).body;
        heap.push(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(m)?.[1] ?? 0) / 1024);
        await sleep(RSS_SAMPLE_MS);
      }
    })();
    const some = () => ids[Math.floor(Math.random() * ids.length)];
    const loop = async (client: HttpsClient) => {
      while (Date.now() < end) {
        const op = pick();
        const t0 = performance.now();
        let status = 0;
        let expected = 200;
        let body = '';
        const name = names[Math.floor(Math.random() * names.length)]!;
        switch (op) {
          case 'create': {
            expected = 201;
            ({ status, body } = await client.send('POST', '/v1.0/users', { token, body: newUser() }));
            if (status === 201) ids.push((JSON.parse(body) as { id: string }).id);
            break;
          }
          case 'patch': {
            const id = some();
            if (!id) continue;
            expected = 204;
            ({ status, body } = await client.send('PATCH', `/v1.0/users/${id}`, { token, body: JSON.stringify({ jobTitle: `T${randomBytes(2).toString('hex')}` }) }));
            if (status === 404) continue; // deleted by another client meanwhile
            break;
          }
          case 'delete': {
            // Keeps the directory about the same size: delete only above the seed size.
            if (ids.length <= SEED_USERS) continue;
            const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0]!;
            expected = 204;
            ({ status, body } = await client.send('DELETE', `/v1.0/users/${id}`, { token }));
            if (status === 204) ({ status, body } = await client.send('DELETE', `/v1.0/directory/deletedItems/${id}`, { token }));
            break;
          }
          case 'get': {
            const id = some();
            if (!id) continue;
            ({ status, body } = await client.send('GET', `/v1.0/users/${id}?$select=id,displayName,jobTitle`, { token }));
            if (status === 404) continue;
            break;
          }
          case 'search':
            ({ status, body } = await client.send('GET', `/v1.0/users?$search=${encodeURIComponent(`"displayName:${name}"`)}&$select=id,displayName&$top=25`, {
              token, headers: { consistencylevel: 'eventual' },
            }));
            break;
          case 'filter':
            ({ status, body } = await client.send('GET', `/v1.0/users?$filter=${encodeURIComponent(`startsWith(displayName,'${name}')`)}&$top=25`, { token }));
            break;
          case 'count':
            ({ status, body } = await client.send('GET', '/v1.0/users/$count', { token, headers: { consistencylevel: 'eventual' } }));
            break;
          case 'token': {
            const form = new URLSearchParams({
              grant_type: 'client_credentials', client_id: tenant.adminApp.clientId, client_secret: tenant.adminApp.clientSecret,
              scope: 'https://graph.microsoft.com/.default',
            }).toString();
            ({ status, body } = await client.send('POST', `/${tenant.tenantId}/oauth2/v2.0/token`, { body: form, form: true }));
            break;
          }
        }
        ms.get(op)!.push(performance.now() - t0);
        if (status !== expected) errors.push(`${op} ${status} ${body.slice(0, 200)}`);
      }
    };
    await Promise.all(clients.map(loop));
    await sampler;
    for (const c of clients) c.close();
  } finally {
    await server.stop();
  }

  const all = [...ms.values()].flat().sort((a, b) => a - b);
  const perOp = Object.fromEntries([...ms].map(([op, xs]) => {
    const s = [...xs].sort((a, b) => a - b);
    return [op, { n: s.length, p50_ms: round(pct(s, 50), 2), p99_ms: round(pct(s, 99), 2) }];
  }));
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const growth = (xs: number[]) => round(mean(xs.slice(-quarter)) / mean(xs.slice(quarter, 2 * quarter)), 3);
  const result = {
    seconds: SECONDS, clients: CLIENTS, requests: all.length, rps: round(all.length / SECONDS, 1), errors: errors.length,
    p50_ms: round(pct(all, 50), 2), p99_ms: round(pct(all, 99), 2), perOp,
    rss_mb: { first: round(rss[0]! / 1024, 1), min: round(Math.min(...rss) / 1024, 1), max: round(Math.max(...rss) / 1024, 1), last: round(rss.at(-1)! / 1024, 1) },
    // Late-quarter mean over second-quarter mean: 1.0 is flat (the first quarter is warm-up).
    rss_growth: growth(rss),
    heap_used_mb: { first: round(heap[0]! / 1024, 1), last: round(heap.at(-1)! / 1024, 1) },
    heap_growth: growth(heap),
  };
  writeFileSync(join(dataRoot, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (errors.length) process.stdout.write(`first errors:\n${errors.slice(0, 10).join('\n')}\n`);
  if (args.includes('--record')) record(result);
  const flat = result.rss_growth < 1.15;
  if (errors.length || !flat) {
    log(`soak FAILED: ${errors.length} errors, RSS growth ×${result.rss_growth}`);
    process.exitCode = 1;
  }
}

function record(r: { seconds: number; clients: number; requests: number; rps: number; errors: number; p50_ms: number; p99_ms: number; rss_mb: Record<string, number>; rss_growth: number; heap_growth: number; perOp: Record<string, { n: number; p50_ms: number; p99_ms: number }> }) {
  const file = join(repoRoot, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const rows = Object.entries(r.perOp).map(([op, s]) => `| ${op} | ${s.n} | ${s.p50_ms} | ${s.p99_ms} |`).join('\n');
  const section = `<!-- soak -->
## Soak (bench/soak.ts)

${r.seconds} s of mixed reads and writes from ${r.clients} clients on SQLite: ${r.requests} requests (${r.rps}/s), **${r.errors} errors**,
p50 ${r.p50_ms} ms, **p99 ${r.p99_ms} ms**; server RSS ${r.rss_mb.first} → ${r.rss_mb.last} MB (min ${r.rss_mb.min}, max ${r.rss_mb.max};
last quarter / second quarter ×${r.rss_growth}; heap used ×${r.heap_growth}).

| operation | requests | p50 ms | p99 ms |
|---|---|---|---|
${rows}
<!-- /soak -->`;
  const next = /<!-- soak -->[\s\S]*<!-- \/soak -->/.test(text) ? text.replace(/<!-- soak -->[\s\S]*<!-- \/soak -->/, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

await main();
