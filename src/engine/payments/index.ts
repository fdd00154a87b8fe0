// engine/payments: the simulated card network (network.ts, cards.ts) and amount rules (money.ts).
export * from './network.js';
export * from './money.js';
export * from './banks.js';
export * from './clocks.js';
export * from './intent-listeners.js';
export * from './three-ds.js';
