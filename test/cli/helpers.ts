import net from 'node:net';
import { main, type CliIo } from '../../src/cli';
import type { Emulator } from '../../src/emulator';

/** What one `iot-jobs` run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Buffers standing in for the process: what was written, so far. */
export interface CapturedIo {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export const captureIo = (env: Readonly<Record<string, string>> = {}, options: { signal?: AbortSignal; cwd?: string } = {}): CapturedIo => {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env,
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  return { io, stdout: () => out, stderr: () => err };
};

/** Runs `iot-jobs ...args` in process with only `env` as its environment. */
export const runCli = async (args: readonly string[], env: Readonly<Record<string, string>> = {}, options: { cwd?: string } = {}): Promise<CliRun> => {
  const captured = captureIo(env, options);
  const code = await main(['node', 'iot-jobs', ...args], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
};

/** Each JSON line of `text`, parsed; fails the test when a line is not JSON. */
export const jsonLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line): unknown => JSON.parse(line));

let things = 0;
/** A thing name no other test uses. */
export const freshThing = (prefix = 'cli'): string => `${prefix}-${process.pid}-${++things}`;

/** Creates a job for `thingName` on the emulator's engine. */
export const createJob = (emu: Emulator, thingName: string, jobId: string, document: unknown = { op: jobId }): void => {
  const created = emu.engine.createJob({ jobId, targets: [`arn:aws:iot:us-east-1:123456789012:thing/${thingName}`], document: JSON.stringify(document) });
  if (!created.ok) throw new Error(created.message);
};

/** A TCP server that only counts the connections it gets: an endpoint that proves nothing was sent. */
export const countingServer = async (): Promise<{ readonly url: string; readonly connections: () => number; readonly close: () => Promise<void> }> => {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Resolves once `check()` is true; rejects after `ms`. */
export const eventually = async (check: () => boolean, ms: number, what: string): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** An ISO 8601 date-time as `Date#toJSON` writes it. */
export const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
