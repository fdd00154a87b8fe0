// Rewrites README.md's "Event types Pinstripe emits today" paragraph from EMITTED_EVENT_TYPES
// (compiled: run `npx tsc -p tsconfig.json` first). test/events.test.ts fails when the two differ;
// this is the fix it points to: `node scripts/readme-event-list.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { EMITTED_EVENT_TYPES } from '../dist/src/events/event-types.js';

const START = 'Event types Pinstripe emits today';
const END = 'Endpoints accept every Stripe event type';
const readme = readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error('README.md: event paragraph markers not found');

const types = [...EMITTED_EVENT_TYPES].sort();
const lines = [];
let line = '';
for (const [i, t] of types.entries()) {
  const word = '`' + t + '`' + (i === types.length - 1 ? '.' : ',');
  if (line && line.length + 1 + word.length > 100) { lines.push(line); line = word; } else line = line ? line + ' ' + word : word;
}
lines.push(line);
const para = `${START} (${types.length}, the list in src/events/event-types.ts, which a test keeps in step with the code and this page):\n${lines.join('\n')}\n`;
writeFileSync('README.md', readme.slice(0, a) + para + readme.slice(b));
console.log(`README.md: ${types.length} event types`);
