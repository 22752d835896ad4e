// `openmto backup FILE` and `openmto restore FILE`: the SQLite database as one consistent file, taken
// online through SQLite's backup API while a server runs (it copies pages between writers, so the copy
// is one committed state). On PostgreSQL use pg_dump and pg_restore (docs/security.md). The data
// folder's other files (operator.key, tls/, demo.json) are plain files to copy alongside; a database
// whose keys are wrapped needs its key encryption key to be of use.
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { databaseUrlFor, isSqliteFile } from '../config.js';
import { lockHolder, secureDataDir } from '../datadir.js';
import { dataOption, out } from './common.js';

const postgresHint = (verb: string) =>
  `OPENMTO_DATABASE_URL is PostgreSQL: ${verb} it with pg_dump -Fc "$OPENMTO_DATABASE_URL" > FILE and pg_restore --clean -d "$OPENMTO_DATABASE_URL" FILE`;

function sqlitePath(dataDir: string, verb: string): string {
  const url = databaseUrlFor(dataDir);
  if (!isSqliteFile(url)) throw new Error(postgresHint(verb));
  return url;
}

/** An openmto database: SQLite, and migrated by openmto. */
function checkBackup(file: string): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const row = db.prepare("select count(*) as n from sqlite_master where type = 'table' and name in ('kysely_migration', 'tenants')").get() as { n: number };
    if (row.n !== 2) throw new Error('not an openmto database');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`damaged (${String(check)})`);
  } catch (e) {
    throw new Error(`${file} is not a usable openmto backup: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    db?.close();
  }
}

export function registerBackupCommands(program: Command): void {
  program.command('backup <file>')
    .description('write a consistent copy of the SQLite database to FILE (works while the server runs)')
    .option('--json', 'JSON output')
    .addOption(dataOption())
    .action(async (file: string, o: { data: string; json?: boolean }) => {
      const source = sqlitePath(o.data, 'back up');
      if (!existsSync(source)) throw new Error(`no database at ${source}`);
      const target = resolve(file);
      if (existsSync(target)) throw new Error(`${target} exists; choose a new file`);
      // The copy holds what the database holds (password hashes, keys): private from its first byte.
      closeSync(openSync(target, 'wx', 0o600));
      const db = new Database(source, { readonly: true, fileMustExist: true });
      try {
        const { totalPages } = await db.backup(target);
        out(o.json, { file: target, pages: totalPages }, () => `backed up ${source} to ${target} (${totalPages} pages)`);
      } finally {
        db.close();
      }
    });

  program.command('restore <file>')
    .description('replace the data folder\'s SQLite database with a backup (the server must be stopped)')
    .option('--force', 'replace an existing database')
    .option('--json', 'JSON output')
    .addOption(dataOption())
    .action(async (file: string, o: { data: string; force?: boolean; json?: boolean }) => {
      const target = sqlitePath(o.data, 'restore');
      const holder = lockHolder(o.data);
      if (holder) throw new Error(`an openmto server (pid ${holder}) is running on ${o.data}; stop it before restoring`);
      if (existsSync(target) && !o.force) throw new Error(`${target} exists; pass --force to replace it`);
      const source = resolve(file);
      checkBackup(source);
      // A restored file must not meet the old database's write-ahead log.
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
      secureDataDir(o.data, target);
      const db = new Database(source, { readonly: true, fileMustExist: true });
      try {
        const { totalPages } = await db.backup(target);
        out(o.json, { file: target, pages: totalPages }, () => `restored ${source} to ${target} (${totalPages} pages)`);
      } finally {
        db.close();
      }
    });
}
