// Prometheus metrics at GET /metrics: HTTP requests and latency, tokens issued, sign-in failures and
// throttled attempts, background queue depth. One registry per server (tests run several in a process).
// Other parts of the server add their own through `gauge`/`counter` (the sync engine, its jobs).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CredentialKind } from '../identity/throttle.js';
import type { TokenService } from '../identity/tokens.js';
import { isWarmUp } from './warmup.js';

type Labels = Record<string, string>;
/** A reading: one number, or numbers by label set. */
export type Reading = number | { labels: Labels; value: number }[];

export interface Metrics {
  readonly registry: Registry;
  /** A gauge read at scrape time (queue depth, jobs by state); a failing read leaves it out of the scrape. */
  gauge(name: string, help: string, read: () => Reading | Promise<Reading>, labelNames?: string[]): void;
  /** A counter kept elsewhere as a running total, read at scrape time. */
  counter(name: string, help: string, read: () => Reading, labelNames?: string[]): void;
}

const set = (m: Gauge | Counter, r: Reading) => {
  m.reset();
  if (typeof r === 'number') {
    if (m instanceof Gauge) m.set(r);
    else m.inc(r);
    return;
  }
  for (const { labels, value } of r) {
    if (m instanceof Gauge) m.set(labels, value);
    else m.inc(labels, value);
  }
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  // The process's own: resident memory, heap, event-loop lag, GC, open handles.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    gauge(name, help, read, labelNames = []) {
      new Gauge({
        name, help, labelNames, registers: [registry],
        async collect() {
          try {
            set(this, await read());
          } catch {
            this.reset();
          }
        },
      });
    },
    counter(name, help, read, labelNames = []) {
      new Counter({ name, help, labelNames, registers: [registry], collect() { set(this, read()); } });
    },
  };
}

const kinds: CredentialKind[] = ['password', 'clientSecret', 'operatorKey'];

/**
 * Request count and latency by route pattern (not by URL, so ids cannot blow up the label set), and the
 * sign-in counters of the token service.
 */
export function instrument(app: FastifyInstance, metrics: Metrics, tokens: TokenService): void {
  const labelNames = ['method', 'route', 'status'];
  const requests = new Counter({ name: 'openmto_http_requests_total', help: 'HTTP requests answered', labelNames, registers: [metrics.registry] });
  const latency = new Histogram({
    name: 'openmto_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['method', 'route'],
    // From a people-index page (~0.2 ms) to a first sign-in's scrypt (~50 ms) and slow bulk requests.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    if (isWarmUp(req)) return;
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  const byKind = (r: Record<CredentialKind, number>) => kinds.map((k) => ({ labels: { credential: k }, value: r[k] }));
  metrics.counter('openmto_tokens_issued_total', 'Access tokens issued, by grant', () =>
    Object.entries(tokens.issued).map(([grant, value]) => ({ labels: { grant }, value })), ['grant']);
  metrics.counter('openmto_sign_in_failures_total', 'Wrong passwords, client secrets and operator keys', () => byKind(tokens.guard.stats.failures), ['credential']);
  metrics.counter('openmto_sign_in_throttled_total', 'Sign-in attempts refused by a lockout or a full scrypt queue', () => byKind(tokens.guard.stats.throttled), ['credential']);
  metrics.counter('openmto_sign_in_lockouts_total', 'Lockouts of a user, app or the operator key', () => byKind(tokens.guard.stats.lockouts), ['credential']);
  metrics.counter('openmto_sign_in_scrypt_total', 'Secrets checked with scrypt (the expensive path a lockout avoids)', () => byKind(tokens.guard.stats.scrypt), ['credential']);
  metrics.gauge('openmto_scrypt_pending', 'Secret verifications running or waiting for a scrypt slot', () => tokens.guard.pending());
}
