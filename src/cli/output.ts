// Terminal output: colour only when writing to a terminal (and NO_COLOR is unset), plain text
// when piped, so scripts and tests read the same words.
const useColor = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

function paint(code: number) {
  return (text: string, stream: NodeJS.WriteStream = process.stdout) => (useColor(stream) ? `\x1b[${code}m${text}\x1b[0m` : text);
}

export const c = {
  bold: paint(1),
  dim: paint(2),
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  cyan: paint(36),
};

/** A status code coloured by class: 2xx green, 4xx yellow, 5xx / none red. */
export function statusText(status: number | null): string {
  if (status === null) return c.red('error');
  if (status >= 200 && status < 300) return c.green(String(status));
  if (status < 500) return c.yellow(String(status));
  return c.red(String(status));
}

export function out(line: string): void { process.stdout.write(line + '\n'); }
export function err(line: string): void { process.stderr.write(line + '\n'); }

/** HH:MM:SS of a Unix-ms time, local. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
