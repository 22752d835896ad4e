// Runs `openmto …` in process (runCli) with extra environment, returning its exit code and output.
import { runCli } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The command's --json document (under node --test, stdout also carries the runner's own messages). */
  json<T = Record<string, unknown>>(): T;
}

export async function cliRun(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const r = await runCli(args, { capture: true });
    return {
      ...r,
      json<T>() {
        const doc = r.stdout.match(/(\{|\[)\n {2}[\s\S]*?\n(\}|\])\n/)?.[0] ?? r.stdout.match(/\[\]\n/)?.[0];
        if (!doc) throw new Error(`no JSON document in the output of openmto ${args.join(' ')}: ${r.stdout}${r.stderr}`);
        return JSON.parse(doc) as T;
      },
    };
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** `openmto … --data dir` that must succeed (exit 0); the assertion names the command and its stderr. */
export function cliOk(env: Record<string, string>, dir: () => string) {
  return async (...args: string[]): Promise<CliRun> => {
    const r = await cliRun(env, ...args, '--data', dir());
    if (r.code !== 0) throw new Error(`openmto ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
}
