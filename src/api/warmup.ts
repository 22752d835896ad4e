// Warming the people-search request path after a start. V8 compiles a function well only after it has
// run many times, so the first few thousand searches after a restart cost 2–3× a warm server's CPU
// (bench/, "first (cold)" rows), and about half of that is Node's own HTTP and TLS code (a bare
// node:https server shows the same). Once a tenant's people index is ready, the server sends itself a
// set of synthetic list and search requests over one keep-alive loopback connection, the path a client's
// request takes: TLS, HTTP parsing, routing, hooks, token check, OData parsing, the index walk,
// rendering; where the loopback can't connect, through `app.inject` (all but TLS and parsing). They are
// read-only (GETs with an app token that only reads users), and neither logged nor counted in metrics.
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import type { SigningKey } from '../identity/keys.js';
import { GRAPH_AUDIENCES } from '../identity/tokens.js';

/** Marks a warm-up request: a per-process secret, so no client can hide its requests from logs or metrics. */
const WARM_UP_HEADER = 'x-openmto-warm-up';
const WARM_UP_MARK = randomBytes(16).toString('hex');

export const isWarmUp = (req: FastifyRequest): boolean => req.headers[WARM_UP_HEADER] === WARM_UP_MARK;

/**
 * Requests per shape. V8 optimizes a function after some hundreds to thousands of calls; measured at
 * 100k users, 500 per shape (2,000 in all, ~1 s of CPU at start) brought the first pass within ~1.3× of
 * steady state. Bounded so a start never spends more than a few seconds on it.
 */
export const WARM_UP_PER_SHAPE = 500;

/** Prefixes cycled through: one to three letters, as people type them; most match something in any directory. */
const PREFIXES = (() => {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const out: string[] = [];
  for (const a of letters) out.push(a);
  for (const a of 'aejmrst') for (const b of 'aeilnoru') out.push(a + b, `${a}${b}${letters[(a.charCodeAt(0) + b.charCodeAt(0)) % 26]}`);
  return out;
})();

const enc = (s: string) => encodeURIComponent(s).replace(/%24/g, '$');

/** A short-lived app token of `tenantId` that may read users, signed with the server's own key. */
async function warmUpToken(key: SigningKey, tenantId: string, at: Date): Promise<string> {
  const now = Math.floor(at.getTime() / 1000);
  const appId = randomUUID();
  return new SignJWT({ tid: tenantId, roles: ['User.Read.All'], idtyp: 'app', oid: appId, sub: appId, azp: appId, appid: appId, ver: '2.0' })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(`https://localhost/${tenantId}/v2.0`)
    .setAudience(GRAPH_AUDIENCES[0] as string)
    .setIssuedAt(now)
    .setNotBefore(now - 300)
    .setExpirationTime(now + 600)
    .sign(key.privateKey);
}

type Send = (url: string, headers: Record<string, string>) => Promise<number>;

/** GETs over one keep-alive connection to the server's own URL; the certificate is our own, so not checked. */
function loopback(base: string): { send: Send; close(): void } {
  const tls = base.startsWith('https:');
  const agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const send: Send = (url, headers) => new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(`${base}${url}`, { method: 'GET', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('warm-up request timed out')));
    req.end();
  });
  return { send, close: () => agent.destroy() };
}

/**
 * Replays `perShape` requests of each people-search shape against `tenantId` (whose people index should
 * be ready), one at a time so live requests interleave: over the loopback to `base` (the server's own
 * URL) when given and reachable, else in process. Returns how many were answered 200.
 */
export async function warmUpPeopleSearch(
  app: FastifyInstance, key: SigningKey, tenantId: string, opts: { base?: string; now?: Date; perShape?: number } = {},
): Promise<number> {
  const { base, perShape = WARM_UP_PER_SHAPE } = opts;
  // Signed at the server's clock time (tests move it), which is what the token check reads.
  const authorization = `Bearer ${await warmUpToken(key, tenantId, opts.now ?? new Date())}`;
  const select = '&$top=25&$select=id,displayName,mail';
  const shapes: ((p: string) => { url: string; eventual?: boolean })[] = [
    (p) => ({ url: `/v1.0/users?$filter=${enc(`startsWith(displayName,'${p}')`)}${select}` }),
    (p) => ({ url: `/v1.0/users?$search=${enc(`"displayName:${p}" OR "mail:${p}"`)}${select}`, eventual: true }),
    (p) => ({ url: `/v1.0/users?$filter=${enc(`startsWith(displayName,'${p}')`)}&$top=10` }),
    (p) => ({ url: `/v1.0/users?$search=${enc(`"displayName:${p}"`)}&$top=10&$select=id,displayName,userPrincipalName`, eventual: true }),
  ];
  const inProcess: Send = async (url, headers) => (await app.inject({ method: 'GET', url, headers })).statusCode;
  const wire = base ? loopback(base) : undefined;
  let send = wire?.send ?? inProcess;
  let ok = 0;
  try {
    for (const shape of shapes) {
      for (let i = 0; i < perShape; i++) {
        const { url, eventual } = shape(PREFIXES[i % PREFIXES.length] as string);
        const headers: Record<string, string> = { authorization, [WARM_UP_HEADER]: WARM_UP_MARK };
        if (eventual) headers.consistencylevel = 'eventual';
        let status: number;
        try {
          status = await send(url, headers);
        } catch {
          if (send === inProcess) throw new Error('in-process warm-up failed');
          send = inProcess;
          status = await send(url, headers);
        }
        // A request that fails says the shape is wrong for this build (or the tenant went): stop, don't spin.
        if (status !== 200) return ok;
        ok++;
      }
    }
    return ok;
  } finally {
    wire?.close();
  }
}
