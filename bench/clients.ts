// Many closed-loop keep-alive HTTPS clients in their own process (`node --import tsx bench/clients.ts
// CONFIG.json`), so the load generator is not the bench process's one event loop and its CPU is not the
// server's: on 2 cores, one client process (one thread, C connections) and one or two server processes
// share the machine, and the report gives both sides' CPU per request. Connection k talks to port
// k mod ports, so clients split evenly across server processes. Prints one JSON line (ClientsResult).
//
//   create: POST /v1.0/invitations (B2B member, sendInvitationMessage false, no password), users
//           `from`.. of the shared generator; every 201 counted, anything else fails the run.
//   search: GET people queries (search.ts queryPath), connection k starting at prefix k × (prefixes / C).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadQueries, pct, procCpuSec, round } from './env.js';
import { type QueryKind, queryPath } from './search.js';
import { HttpsClient } from './server.js';
import { makeBodies } from './users.js';

export interface ClientsConfig {
  mode: 'create' | 'search';
  ports: number[];
  /** One token per port (each server process issues its own; they verify each other's too). */
  tokens: string[];
  caFile: string;
  /** Server pids whose CPU is summed around the timed phase. */
  serverPids: number[];
  connections: number;
  /** Requests before the timed phase (not timed), then `requests` timed, both across all connections. */
  warmup: number;
  requests: number;
  /** create: first generated user of the timed phase (the warm-up's follow it); domain unused by invitations. */
  from?: number;
  kind?: QueryKind;
}

export interface ClientsResult {
  connections: number;
  servers: number;
  requests: number;
  seconds: number;
  perSec: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  serverCpuUsPerRequest: number;
  clientCpuUsPerRequest: number;
  /** create: 201s over warm-up and timed phase, and how many distinct user ids they named. */
  acknowledged?: number;
  distinctUsers?: number;
}

const invitation = (b: Record<string, unknown>) => JSON.stringify({
  invitedUserEmailAddress: b.mail, invitedUserDisplayName: b.displayName, inviteRedirectUrl: 'https://example.com/',
  invitedUserType: 'Member', sendInvitationMessage: false,
});

async function main(cfg: ClientsConfig): Promise<ClientsResult> {
  const ca = readFileSync(cfg.caFile, 'utf8');
  const clients = Array.from({ length: cfg.connections }, (_, k) => new HttpsClient(cfg.ports[k % cfg.ports.length] as number, ca));
  const token = (k: number) => cfg.tokens[k % cfg.tokens.length] as string;
  const queries = loadQueries();
  let bodies: string[] = [];
  if (cfg.mode === 'create') {
    const from = cfg.from ?? 0;
    // Timed users first in the generator's order, warm-up users after them, as create.ts numbers them.
    const timed = (await makeBodies(from, cfg.requests, 'unused.test')).map(invitation);
    const warm = (await makeBodies(from + cfg.requests, cfg.warmup, 'unused.test')).map(invitation);
    bodies = [...warm, ...timed];
  }
  let next = 0;
  const ids = new Set<string>();
  let acknowledged = 0;
  const one = async (k: number, i: number): Promise<void> => {
    const c = clients[k] as HttpsClient;
    if (cfg.mode === 'create') {
      const r = await c.send('POST', '/v1.0/invitations', { token: token(k), body: bodies[i] as string });
      if (r.status !== 201) throw new Error(`POST /v1.0/invitations: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      acknowledged++;
      const id = (JSON.parse(r.body) as { invitedUser?: { id?: string } }).invitedUser?.id;
      if (id) ids.add(id);
      return;
    }
    const offset = Math.floor((k * queries.length) / cfg.connections);
    const { path, headers } = queryPath(cfg.kind ?? 'search', queries[(offset + i) % queries.length] as string);
    const r = await c.send('GET', path, { token: token(k), headers });
    if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  };
  // Closed loop: each connection sends its next request when the last one is answered, until `end`.
  const phase = async (end: number, lat?: number[]) => {
    await Promise.all(clients.map(async (_, k) => {
      for (;;) {
        // Take an index only below `end`, so the warm-up's last round does not eat the timed phase's first.
        if (next >= end) return;
        const i = next++;
        const t = performance.now();
        await one(k, i);
        lat?.push(performance.now() - t);
      }
    }));
  };
  await phase(cfg.warmup);
  const lat: number[] = [];
  const cpu = () => cfg.serverPids.reduce((s, pid) => s + procCpuSec(pid), 0);
  const s0 = cpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await phase(cfg.warmup + cfg.requests, lat);
  const seconds = (performance.now() - t0) / 1000;
  const server = cpu() - s0;
  const c = process.cpuUsage(c0);
  for (const x of clients) x.close();
  lat.sort((a, b) => a - b);
  return {
    connections: cfg.connections, servers: cfg.ports.length, requests: cfg.requests, seconds: round(seconds, 2),
    perSec: Math.round(cfg.requests / seconds), p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)), max_ms: round(lat.at(-1) ?? 0),
    serverCpuUsPerRequest: Math.round((1e6 * server) / cfg.requests), clientCpuUsPerRequest: Math.round((c.user + c.system) / cfg.requests),
    ...(cfg.mode === 'create' ? { acknowledged, distinctUsers: ids.size } : {}),
  };
}

const file = process.argv[2];
if (!file) throw new Error('usage: clients.ts CONFIG.json');
process.stdout.write(`${JSON.stringify(await main(JSON.parse(readFileSync(file, 'utf8')) as ClientsConfig))}\n`);
