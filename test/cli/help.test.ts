// Every command's --help has an Examples: section (walking the whole command tree), the top-level help
// documents the exit codes, and the exit codes of commander's own errors are usage errors (2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram, runCli } from '../../src/cli/main.js';
import { EXAMPLES, pathOf } from '../../src/cli/examples.js';

/** Commands that run something: leaves, and groups with their own action (`invite`). */
function runnable(program: Command): Command[] {
  const all: Command[] = [];
  const walk = (c: Command) => {
    const hasAction = Boolean((c as unknown as { _actionHandler: unknown })._actionHandler);
    if (c.commands.length === 0 || hasAction) all.push(c);
    c.commands.forEach(walk);
  };
  program.commands.forEach(walk);
  return all;
}

describe('openmto --help', () => {
  test('every command has examples in its help', async () => {
    const commands = runnable(buildProgram());
    assert.ok(commands.length >= 50, `only ${commands.length} commands`);
    const missing: string[] = [];
    for (const c of commands) {
      const path = pathOf(c);
      const r = await runCli([...path.split(' '), '--help'], { capture: true });
      assert.equal(r.code, 0, `${path} --help exited ${r.code}`);
      const examples = r.stdout.split('\nExamples:\n')[1];
      if (!examples || !/^ {2}openmto /m.test(examples) && !/^ {2}\S+=\S+ openmto /m.test(examples)) missing.push(path);
    }
    assert.deepEqual(missing, []);
    // No stale entries: every example key names a command.
    const paths = new Set(commands.map(pathOf));
    assert.deepEqual(Object.keys(EXAMPLES).filter((k) => !paths.has(k)), []);
  });

  test('the top-level help lists the exit codes', async () => {
    const r = await runCli(['--help'], { capture: true });
    assert.equal(r.code, 0);
    for (const line of [/0 {2}ok/, /1 {2}the operation failed/, /2 {2}usage error/, /3 {2}partial/, /4 {2}not found/]) assert.match(r.stdout, line);
  });

  test('usage errors exit 2, --version exits 0', async () => {
    assert.equal((await runCli(['no-such-command'], { capture: true })).code, 2);
    assert.equal((await runCli(['tenant', 'create', '--no-such-flag'], { capture: true })).code, 2);
    assert.equal((await runCli(['users', 'list'], { capture: true })).code, 2);
    assert.equal((await runCli(['sync'], { capture: true })).code, 2);
    assert.equal((await runCli(['--version'], { capture: true })).code, 0);
  });
});
