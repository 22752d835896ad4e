// The web admin console (web/, built by scripts/build.mjs into dist/console): index.html at `/` and for
// any other browser navigation nothing else claims (SPA fallback), hashed assets with a year's cache, and
// the console's public client id at /console/config.json. Identity, Graph and operator routes are
// registered as real routes and so always win; an unknown path under them still gets its protocol's 404.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { CONSOLE_CLIENT_ID } from '../identity/console.js';

/** The same path from src/api (tsx) and dist/api (compiled): the build output sits in dist/console. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

// No inline script or style anywhere in the build (Vite emits external files), so the policy can be strict.
// connect-src 'self': the console talks only to this server; the sign-in is a top-level navigation.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Paths that belong to an API: a browser navigation there gets the API's own 404, never the console.
const API_PATH = /^\/(v1\.0|beta|operator|openmto|assets|console|metrics|healthz|readyz|redeem)(\/|$)|\/oauth2\/|\/discovery\/|\/\.well-known\/|\/v2\.0(\/|$)/i;

/** index.html, read per request (about 1 KB) so a rebuilt console is picked up without a restart; null when not built. */
function readIndex(dir = CONSOLE_DIR): Buffer | null {
  try {
    return readFileSync(join(dir, 'index.html'));
  } catch {
    return null;
  }
}

const notBuilt = () => new DomainError('notFound', 'Request_ResourceNotFound',
  'The openmto web console is not built on this server: run `npm run build` (it needs the dev dependencies).');

function sendIndex(reply: FastifyReply, html: Buffer) {
  return reply
    .header('Cache-Control', 'no-cache')
    .header('Content-Security-Policy', CSP)
    .header('X-Frame-Options', 'DENY')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(html);
}

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: CONSOLE_DIR, serve: false });
  app.get('/', async (_req, reply) => {
    const html = readIndex();
    if (!html) throw notBuilt();
    return sendIndex(reply, html);
  });
  // Vite names assets by content hash, so a name never changes meaning: cache for a year.
  app.get('/assets/*', async (req: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const file = req.params['*'];
    // Only files inside assets/: a dot segment would reach index.html (and cache it for a year) or beyond.
    if (/(^|[\\/])\.\.?([\\/]|$)|\\/.test(file)) return reply.callNotFound();
    return reply.header('X-Content-Type-Options', 'nosniff').sendFile(join('assets', file), CONSOLE_DIR, { maxAge: '365d', immutable: true });
  });
  app.get('/favicon.svg', async (_req, reply) => reply.sendFile('favicon.svg', CONSOLE_DIR, { maxAge: '1d' }));
  app.get('/console/config.json', async (_req, reply) =>
    reply.header('Cache-Control', 'no-cache').send({ clientId: CONSOLE_CLIENT_ID }));
}

/**
 * The SPA fallback, called by the app's not-found handler: a GET that asks for HTML (a browser navigation
 * to a console page, a reload) on a path no API owns gets index.html. Returns false to let the caller
 * render its protocol's 404.
 */
export function consoleFallback(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.method !== 'GET' || !/text\/html/.test(req.headers.accept ?? '')) return false;
  const path = req.url.split('?')[0] ?? '';
  if (API_PATH.test(path)) return false;
  const html = readIndex();
  if (!html) return false;
  void sendIndex(reply, html);
  return true;
}
