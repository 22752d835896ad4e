// /servicePrincipals/{id}/synchronization: secrets, jobs (start, pause, restart, validateCredentials,
// provisionOnDemand, openmto's dryRun), schema (get, replace, reset, parseExpression, filterOperators,
// functions); and /auditLogs/provisioning.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors.js';
import {
  createJob, deleteJob, dryRun, expressionFunctions, filterOperators, getJob, getSchema, getSecrets, listJobs, listProvisioningLog, pauseJob,
  provisionOnDemand, putSchema, putSecrets, renderJob, requireSyncRead, resetSchema, restartJob, startJob, type SyncContext, testExpression,
  validateCredentials,
} from '../../sync/index.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';
import { parseFilter } from './odata/index.js';
import { parseTop, type Query } from './query.js';

type SpParams = { Params: { id: string } };
type JobParams = { Params: { id: string; jobId: string } };

const BASE = '/servicePrincipals/:id/synchronization';

// Entra allows five on-demand requests per 10 s; the window is per job, in this process.
const ON_DEMAND_LIMIT = 5;
const ON_DEMAND_WINDOW_MS = 10_000;

function onDemandLimiter() {
  const recent = new Map<string, number[]>();
  return (key: string, now: number) => {
    const times = (recent.get(key) ?? []).filter((t) => now - t < ON_DEMAND_WINDOW_MS);
    if (times.length >= ON_DEMAND_LIMIT) {
      const retry = Math.ceil((ON_DEMAND_WINDOW_MS - (now - times[0]!)) / 1000);
      throw Object.assign(new DomainError('tooManyRequests', 'TooManyRequests', 'Please retry again later.'), { retryAfter: retry });
    }
    times.push(now);
    recent.set(key, times);
    if (recent.size > 10_000) recent.delete(recent.keys().next().value as string);
  };
}

export function synchronizationRoutes(ctx: GraphContext) {
  const sync: SyncContext = {
    store: ctx.deps.store, clock: ctx.deps.clock,
    kick: (tenantId, jobIds) => {
      for (const id of jobIds) ctx.deps.hooks?.wake?.(`sync:${id}`, tenantId);
    },
  };
  const limit = onDemandLimiter();
  return async (app: FastifyInstance) => {
    const context = (req: FastifyRequest, path: string) => `${serviceRoot(req, ctx.version)}/$metadata#${path}`;
    const jobJson = (req: FastifyRequest<SpParams>, job: Parameters<typeof renderJob>[0]) =>
      ({ '@odata.context': context(req, `servicePrincipals('${req.params.id}')/synchronization/jobs/$entity`), ...renderJob(job) });

    app.put(`${BASE}/secrets`, async (req: FastifyRequest<SpParams>, reply) => {
      await putSecrets(sync, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });
    app.get(`${BASE}/secrets`, async (req: FastifyRequest<SpParams>) => ({
      '@odata.context': context(req, `servicePrincipals('${req.params.id}')/synchronization/secrets`),
      value: await getSecrets(sync, tenantOf(req), req.actor, req.params.id),
    }));

    app.get(`${BASE}/jobs`, async (req: FastifyRequest<SpParams>) => ({
      '@odata.context': context(req, `servicePrincipals('${req.params.id}')/synchronization/jobs`),
      value: (await listJobs(sync, tenantOf(req), req.actor, req.params.id)).map(renderJob),
    }));
    app.post(`${BASE}/jobs`, async (req: FastifyRequest<SpParams>, reply) => {
      const job = await createJob(sync, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(201).send(jobJson(req, job));
    });
    app.post(`${BASE}/jobs/validateCredentials`, async (req: FastifyRequest<SpParams>, reply) => {
      await validateCredentials(sync, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });
    app.get(`${BASE}/jobs/:jobId`, async (req: FastifyRequest<JobParams>) => jobJson(req, await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId)));
    app.delete(`${BASE}/jobs/:jobId`, async (req: FastifyRequest<JobParams>, reply) => {
      await deleteJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      return reply.status(204).send();
    });
    for (const [action, fn] of [['start', startJob], ['pause', pauseJob]] as const) {
      app.post(`${BASE}/jobs/:jobId/${action}`, async (req: FastifyRequest<JobParams>, reply) => {
        await fn(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
        return reply.status(204).send();
      });
    }
    app.post(`${BASE}/jobs/:jobId/restart`, async (req: FastifyRequest<JobParams>, reply) => {
      await restartJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId, req.body);
      return reply.status(204).send();
    });
    app.post(`${BASE}/jobs/:jobId/validateCredentials`, async (req: FastifyRequest<JobParams>, reply) => {
      await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      await validateCredentials(sync, tenantOf(req), req.actor, req.params.id, req.body);
      return reply.status(204).send();
    });
    app.post(`${BASE}/jobs/:jobId/provisionOnDemand`, async (req: FastifyRequest<JobParams>, reply) => {
      // Who may, and which job, first: a caller who can't see the job learns nothing from the limit.
      await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      try {
        limit(`${tenantOf(req)} ${req.params.jobId}`, ctx.deps.clock.now().getTime());
      } catch (e) {
        reply.header('Retry-After', String((e as { retryAfter?: number }).retryAfter ?? 10));
        throw e;
      }
      const result = await provisionOnDemand(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId, req.body);
      return { '@odata.context': context(req, 'microsoft.graph.stringKeyStringValuePair'), ...result };
    });
    app.post(`${BASE}/jobs/:jobId/dryRun`, async (req: FastifyRequest<JobParams>) =>
      dryRun(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId));

    app.get(`${BASE}/jobs/:jobId/schema`, async (req: FastifyRequest<JobParams>) => ({
      '@odata.context': context(req, `servicePrincipals('${req.params.id}')/synchronization/jobs('${req.params.jobId}')/schema/$entity`),
      ...(await getSchema(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId)),
    }));
    app.put(`${BASE}/jobs/:jobId/schema`, async (req: FastifyRequest<JobParams>, reply) => {
      await putSchema(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId, req.body);
      return reply.status(204).send();
    });
    app.delete(`${BASE}/jobs/:jobId/schema`, async (req: FastifyRequest<JobParams>, reply) => {
      await resetSchema(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      return reply.status(204).send();
    });
    app.post(`${BASE}/jobs/:jobId/schema/parseExpression`, async (req: FastifyRequest<JobParams>) => {
      await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      return { '@odata.context': context(req, 'microsoft.graph.parseExpressionResponse'), ...testExpression(req.body, ctx.deps.clock.now()) };
    });
    app.get(`${BASE}/jobs/:jobId/schema/filterOperators`, async (req: FastifyRequest<JobParams>) => {
      await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      return { '@odata.context': context(req, 'Collection(microsoft.graph.filterOperatorSchema)'), value: filterOperators };
    });
    app.get(`${BASE}/jobs/:jobId/schema/functions`, async (req: FastifyRequest<JobParams>) => {
      await getJob(sync, tenantOf(req), req.actor, req.params.id, req.params.jobId);
      return { '@odata.context': context(req, 'Collection(microsoft.graph.attributeMappingFunctionSchema)'), value: expressionFunctions };
    });

    app.get('/auditLogs/provisioning', async (req) => {
      const q = req.query as Query;
      const top = parseTop(q.$top);
      const filter = q.$filter ? parseFilter(q.$filter) : undefined;
      const before = q.$skiptoken ? decodeLogToken(q.$skiptoken) : null;
      const page = await listProvisioningLog(ctx.deps.store.db, tenantOf(req), req.actor, filter, top, before);
      const next = page.next ? nextLink(req, Buffer.from(page.next).toString('base64url')) : undefined;
      return {
        '@odata.context': context(req, 'auditLogs/provisioning'), value: page.items, ...(next ? { '@odata.nextLink': next } : {}),
      };
    });
    void requireSyncRead;
  };

  /** The request's own URL with `$skiptoken` replaced, written as Graph writes it (a literal `$`). */
  function nextLink(req: FastifyRequest, token: string): string {
    const q = req.url.indexOf('?');
    const path = (q < 0 ? req.url : req.url.slice(0, q)).replace(/^\/(v1\.0|beta)/, '');
    const kept = q < 0 ? [] : req.url.slice(q + 1).split('&').filter((p) => p !== '' && !/^(\$|%24)skiptoken=/i.test(p));
    return `${serviceRoot(req, ctx.version)}${path}?${[...kept, `$skiptoken=${token}`].join('&')}`;
  }

}

function decodeLogToken(token: string): string {
  const id = token.length <= 64 ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new DomainError('badRequest', 'Request_BadRequest', "The value of the '$skiptoken' query parameter is invalid.");
  return id;
}
