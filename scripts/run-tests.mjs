#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node:test.
// Node 20's `--test` does not expand globs, so we list the files ourselves.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
  });
}
// On PostgreSQL every test file makes its own schema (test/helpers/server.ts); drop those of
// earlier runs first.
const databaseUrl = process.env.PINSTRIPE_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
if (databaseUrl) {
  const { default: postgres } = await import('postgres');
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
  try {
    const rows = await sql`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tf\_%' OR nspname LIKE 't\_%'`;
    for (const { nspname } of rows) await sql.unsafe(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally { await sql.end(); }
}

const only = process.argv.slice(2);
const files = find('dist/test').filter((f) => !only.length || only.some((o) => f.includes(o))).sort();
const res = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
