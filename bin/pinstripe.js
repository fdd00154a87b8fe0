#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `pinstripe` command: runs the compiled CLI (npm install builds it).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
