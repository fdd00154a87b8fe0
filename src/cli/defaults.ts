// Defaults the CLI shows without loading the server (which `serve` imports on demand).
// They equal src/server.ts's DEFAULT_* (test/cli.test.ts checks).
export const DEFAULT_PORT = 12111;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.pinstripe';

/**
 * Node flags the server runs with: `npm start` and the `pinstripe` bin's shebang pass them,
 * and the bench's server children (test/cli.test.ts checks all three agree). Semi-spaces of
 * at most 8 MB: the young-generation bound that src/http/memory-bounds.ts applies at run time
 * (for programs embedding startServer) acts only after a GC, and under the bench's loads V8
 * sometimes grew past it first; the bench's RSS after its loads was 133-153 MB with that
 * bound, 130-136 MB (six runs) with this flag, at the same throughput.
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'];
