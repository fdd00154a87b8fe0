// Chooses the backend: PostgreSQL when a database URL is given, otherwise the embedded SQLite
// store in the data directory.
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return PostgresStore.open(opts.databaseUrl);
  return new SqliteStore(opts.dataDir);
}
