// Defaults the CLI shows without loading the server (which `serve` imports on demand).
// They equal src/server.ts's DEFAULT_* (test/cli.test.ts checks).
export const DEFAULT_PORT = 12111;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.pinstripe';
