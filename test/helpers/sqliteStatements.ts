// The statements (their SQL) every SQLite connection of this process runs while `fn` does (better-sqlite3's
// Statement methods, wrapped for the duration): what proves a path runs no SQL.
import Database from 'better-sqlite3';

export async function sqliteStatementsDuring(fn: () => Promise<void>): Promise<string[]> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const methods = ['run', 'all', 'get', 'iterate'];
  const originals = methods.map((m) => proto[m] as (...args: unknown[]) => unknown);
  const ran: string[] = [];
  methods.forEach((m, i) => {
    const original = originals[i] as (...args: unknown[]) => unknown;
    proto[m] = function (this: { source: string }, ...args: unknown[]) {
      ran.push(this.source);
      return original.apply(this, args);
    };
  });
  try {
    await fn();
  } finally {
    methods.forEach((m, i) => {
      proto[m] = originals[i] as (...args: unknown[]) => unknown;
    });
  }
  return ran;
}
