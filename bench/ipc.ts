// Request/reply over a forked child's IPC channel: the parent sends {id, cmd, ...} and the
// child answers {id, ok, result | error}. Used by the bench to drive its server children.
import type { ChildProcess } from 'node:child_process';

export interface IpcRequest { id: number; cmd: string; [k: string]: unknown }
export interface IpcReply { id: number; ok: boolean; result?: unknown; error?: string }

let nextId = 1;

export function call<T = unknown>(child: ChildProcess, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 600_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`child did not answer ${cmd} within ${timeoutMs} ms`)); }, timeoutMs);
    const onMessage = (m: unknown) => {
      const r = m as IpcReply;
      if (!r || r.id !== id) return;
      cleanup();
      if (r.ok) resolve(r.result as T); else reject(new Error(`${cmd} failed in child: ${r.error}`));
    };
    const onExit = (code: number | null, signal: string | null) => { cleanup(); reject(new Error(`child exited (${code ?? signal}) during ${cmd}`)); };
    const cleanup = () => { clearTimeout(timer); child.off('message', onMessage); child.off('exit', onExit); };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send({ id, cmd, ...args });
  });
}

/** Child side: dispatch incoming requests to handlers and send back their results. */
export function serve(handlers: Record<string, (msg: IpcRequest) => unknown | Promise<unknown>>): void {
  process.on('message', async (m: unknown) => {
    const msg = m as IpcRequest;
    if (!msg || typeof msg.id !== 'number') return;
    const h = handlers[msg.cmd];
    try {
      if (!h) throw new Error(`unknown command ${msg.cmd}`);
      const result = await h(msg);
      process.send!({ id: msg.id, ok: true, result } satisfies IpcReply);
    } catch (err) {
      process.send!({ id: msg.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies IpcReply);
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave servers behind.
  process.on('disconnect', () => process.exit(0));
}
