// The `pinstripe` command line. `serve` runs the server in the foreground; more commands
// (listen, trigger, reset, keys) arrive with the webhooks issue.
import { Command, InvalidArgumentError } from 'commander';
import { createIdGenerator } from '../api/ids.js';
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, startServer } from '../server.js';

/**
 * The key pair printed under `--seed`: derived from the seed (its own generator, so the id
 * sequence is unchanged), so reproducible runs print the same keys and reach the same account.
 */
export function seededKeys(seed: number): { secret: string; publishable: string } {
  const suffix = createIdGenerator((seed ^ 0x6b657973) >>> 0).random(24);
  return { secret: `sk_test_${suffix}`, publishable: `pk_test_${suffix}` };
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/** A fresh matching key pair: each distinct suffix is its own account. */
export function freshKeys(): { secret: string; publishable: string } {
  const suffix = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
  return { secret: `sk_test_${suffix}`, publishable: `pk_test_${suffix}` };
}

export function buildCli(): Command {
  const program = new Command();
  program.name('pinstripe').description('A self-hosted server that speaks the Stripe REST API (v1).');

  program.command('serve', { isDefault: true })
    .description('run the server in the foreground')
    .option('-p, --port <port>', 'port to listen on', integer, DEFAULT_PORT)
    .option('-H, --host <host>', 'interface to bind (127.0.0.1 keeps it local)', DEFAULT_HOST)
    .option('-d, --data <dir>', 'data directory of the embedded SQLite store', DEFAULT_DATA_DIR)
    .option('--database-url <url>', 'PostgreSQL URL (postgres://…); overrides --data (env DATABASE_URL)')
    .option('--seed <n>', 'make ids and secrets deterministic, for reproducible test runs', integer)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (o) => {
      const server = await startServer({
        port: o.port, host: o.host, dataDir: o.data, databaseUrl: o.databaseUrl ?? process.env.DATABASE_URL,
        seed: o.seed, logLevel: o.logLevel,
      });
      const keys = o.seed === undefined ? freshKeys() : seededKeys(o.seed);
      const store = server.services.store.kind === 'postgres' ? 'PostgreSQL' : `SQLite in ${o.data}`;
      process.stdout.write(
        `Pinstripe listening on ${server.url} (store: ${store})\n` +
        `  secret key:      ${keys.secret}\n` +
        `  publishable key: ${keys.publishable}\n` +
        `Any sk_test_… key works; each distinct key is its own account.\n`,
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.logger.info({ signal }, 'shutting down');
        try {
          await server.close();
          process.exit(0);
        } catch (err) {
          server.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        }
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}
