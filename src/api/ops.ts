// Operations endpoints outside Graph: /healthz (the process answers), /readyz (the store answers and the
// server is not shutting down), /metrics (Prometheus). Metrics show tenant activity, so they are served
// to loopback callers, or to anyone with the operator key; otherwise 401.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { ThrottledError } from '../identity/throttle.js';
import type { AppDeps } from './app.js';
import { createMetrics, instrument, type Metrics } from './metrics.js';
import { requireOperatorKey } from './operator/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const loopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';

export async function registerOps(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const metrics = createMetrics();
  app.decorate('metrics', metrics);
  instrument(app, metrics, deps.tokens);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Idle keep-alive connections are closed when closing starts; one busy then is closed after its
  // response, or it would hold the shutdown until its keep-alive timeout.
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  // Throttled sign-ins say how long to wait, whichever route refused them.
  app.addHook('onError', async (_req, reply, error) => {
    if (error instanceof ThrottledError) reply.header('Retry-After', String(error.retryAfterS));
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (closing) return reply.status(503).send({ status: 'shutting down' });
    try {
      await sql`select 1`.execute(deps.store.db);
    } catch {
      return reply.status(503).send({ status: 'store unavailable' });
    }
    return { status: 'ready' };
  });
  app.get('/metrics', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!loopback(req.ip)) await requireOperatorKey(deps, req, reply);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
