// Defaults the CLI shows without loading the server (which `serve` imports on demand).
// They equal src/server.ts's DEFAULT_* (test/cli.test.ts checks).
export const DEFAULT_PORT = 12111;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.pinstripe';

/**
 * Node flags the server runs with: `npm start` and the `pinstripe` bin's shebang pass them,
 * and the bench's server children (test/cli.test.ts checks all three agree). V8 grows the
 * young generation's semi-spaces up to 16 MB each under a steady load of requests and keeps
 * them; at 8 MB the server's RSS after the bench's loads was 131-136 MB instead of 133-153 MB,
 * at the same throughput.
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'];
