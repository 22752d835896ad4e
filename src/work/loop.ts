// The one way background work runs: a loop that drains a queue when woken (a commit that queued work, a
// NOTIFY from another process) and otherwise sleeps until its safety-net poll. One timer per loop, not per
// item: an idle queue of any size costs one timer. Runs never overlap; a wake during a run runs again after.
export interface WorkLoop {
  wake(): void;
  stop(): Promise<void>;
}

export interface WorkLoopOptions {
  /** Safety-net poll (ms): catches items whose time came (retries, schedules) and wakes that were missed. */
  pollMs: number;
  onError?: (e: unknown) => void;
}

export function startWorkLoop(drain: () => Promise<unknown>, options: WorkLoopOptions): WorkLoop {
  let stopped = false;
  let again = false;
  let current: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(tick, options.pollMs);
    timer.unref();
  };
  function tick(): void {
    if (stopped) return;
    if (current) {
      again = true;
      return;
    }
    clearTimeout(timer);
    current = drain()
      .then(() => undefined, (e) => options.onError?.(e))
      .finally(() => {
        current = null;
        if (stopped) return;
        if (again) {
          again = false;
          tick();
        } else {
          schedule();
        }
      });
  }
  schedule();
  return {
    wake: tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
