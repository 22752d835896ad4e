// When sync jobs run. A commit in a source tenant marks that tenant's active jobs' work items due (the
// store announces commits: in process on SQLite, LISTEN/NOTIFY across processes on PostgreSQL), and one
// loop per process claims due items under leases and runs them. An idle organization of any size costs
// one timer and one claim query a second, no timer or polling per job; a change reaches its targets as
// soon as the loop runs it (well under a second when idle). A sweep every 30 s re-queues any active job
// whose source moved past its watermark without a queued item (a wake lost with a crashed process).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../domain/clock.js';
import { syncRepo } from '../store/repos/sync.js';
import { workRepo } from '../store/repos/work.js';
import type { Store } from '../store/store.js';
import { startWorkLoop, type WorkLoop } from '../work/loop.js';
import { defaultEngineOptions, type EngineContext, type EngineOptions, type RunReport, runSyncItem, SYNC_QUEUE } from './engine.js';

export interface SchedulerOptions {
  engine?: Partial<EngineOptions>;
  /** Claim poll (ms): due retries, schedules and takeovers of dead workers' jobs are found within it. */
  pollMs?: number;
  /** Catch-up sweep (ms). */
  sweepMs?: number;
  onError?: (e: unknown) => void;
  onRun?: (tenantId: string, jobId: string, report: RunReport, ms: number) => void;
}

export interface SyncScheduler {
  readonly owner: string;
  /** Queues the given jobs (after a configuration change) and wakes the loop. */
  kick(tenantId: string, jobIds: readonly string[]): Promise<void>;
  wake(): void;
  /** A cross-tenant access policy changed somewhere: jobs quarantined by a policy check try again now. */
  policyChanged(): Promise<void>;
  /** Runs everything due now, then resolves (tests and the CLI use it to converge). */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

const isInterval = (settings: { name: string; value: string }[]) =>
  settings.some((s) => s.name === 'openmto.Schedule' && s.value.toLowerCase() === 'interval');

export function startSyncScheduler(store: Store, clock: Clock, options: SchedulerOptions = {}): SyncScheduler {
  let stopping = false;
  const ctx: EngineContext = {
    store, clock, options: { ...defaultEngineOptions, ...options.engine }, owner: `${process.pid}-${randomUUID().slice(0, 8)}`, stopping: () => stopping,
  };
  const onError = options.onError ?? (() => undefined);

  async function drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      if (stopping) return ran;
      const now = clock.now();
      const item = await store.transaction((db) =>
        workRepo.claim(db, SYNC_QUEUE, now.toISOString(), ctx.owner, new Date(now.getTime() + ctx.options.leaseMs).toISOString(), store.dialect === 'postgres'));
      if (!item) return ran;
      ran += 1;
      try {
        const began = performance.now();
        const report = await runSyncItem(ctx, item);
        options.onRun?.(item.tenantId, item.id, report, performance.now() - began);
      } catch (e) {
        // The lease runs out and the item is claimed again; a job failing this way every time shows in the server log.
        onError(e);
      }
    }
  }

  const loop: WorkLoop = startWorkLoop(drain, { pollMs: options.pollMs ?? 1000, onError });

  async function queue(tenantId: string, ids: readonly string[]): Promise<void> {
    if (!ids.length || stopping) return;
    const at = clock.now().toISOString();
    await store.transaction(async (db) => {
      // In id order, so two wake-ups of the same jobs lock their items in the same order.
      for (const id of [...ids].sort()) await workRepo.touch(db, tenantId, SYNC_QUEUE, { id, kind: 'cycle', ref: null, notBefore: at, createdAt: at });
    });
  }

  // Commits arrive one by one (hundreds a second under load); they are gathered and handled once per turn.
  let pending = new Set<string>();
  let unknown = false;
  let scheduled = false;
  // Background reads in flight; stop() waits for them so none runs on a closed store.
  const inFlight = new Set<Promise<void>>();
  function track(p: Promise<void>): void {
    const t = p.catch((e) => {
      if (!stopping) onError(e);
    }).finally(() => inFlight.delete(t));
    inFlight.add(t);
  }
  async function handleChanges(): Promise<void> {
    scheduled = false;
    if (stopping) return;
    const tenants = pending;
    const sweep = unknown;
    pending = new Set();
    unknown = false;
    let queued = 0;
    for (const t of tenants) {
      const jobs = (await syncRepo.activeJobs(store.db, t)).filter((j) => !isInterval(j.settings));
      await queue(t, jobs.map((j) => j.id));
      queued += jobs.length;
    }
    if (sweep) await catchUp();
    // A commit in a tenant without due jobs made nothing claimable: waking would only run a claim
    // transaction that finds nothing (one per commit under load). Retries and schedules come with the poll.
    if (queued || sweep) loop.wake();
  }
  async function catchUp(): Promise<void> {
    if (stopping) return;
    for (const j of await syncRepo.behind(store.db)) await queue(j.tenantId, [j.id]);
  }
  const unsubscribe = store.onChange((tenantIds) => {
    // The engine's own exports (reported apart) are B2B users no job provisions onward: nothing to wake for.
    if (tenantIds && !tenantIds.length) return;
    if (tenantIds) for (const t of tenantIds) pending.add(t);
    else unknown = true;
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => track(handleChanges()));
    }
  });
  const sweepTimer = setInterval(() => track(catchUp().then(() => loop.wake())), options.sweepMs ?? 30_000);
  sweepTimer.unref();
  // Jobs whose source moved while no process ran.
  track(catchUp().then(() => loop.wake()));

  return {
    owner: ctx.owner,
    async kick(tenantId, jobIds) {
      await queue(tenantId, jobIds);
      loop.wake();
    },
    wake: () => loop.wake(),
    async policyChanged() {
      const at = clock.now().toISOString();
      for (const job of await syncRepo.policyQuarantined(store.db)) {
        await store.transaction(async (db) => {
          const j = await syncRepo.lockJob(db, job.tenantId, job.id, store.dialect === 'postgres');
          const q = j?.status.quarantine as { nextAttempt: string | null } | null | undefined;
          if (!j || !q) return;
          q.nextAttempt = at;
          await syncRepo.updateJob(db, j);
          await workRepo.touch(db, j.tenantId, SYNC_QUEUE, { id: j.id, kind: 'cycle', ref: null, notBefore: at, createdAt: at });
        });
      }
      loop.wake();
    },
    drain,
    async stop() {
      stopping = true;
      unsubscribe();
      await Promise.all([...inFlight]);
      clearInterval(sweepTimer);
      await loop.stop();
    },
  };
}
