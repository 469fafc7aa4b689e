import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import type { HandlerEvent, JobHandler } from '../../../src/agent/handler';
import { jobIdOf } from '../runner-harness';

/** Shared pieces of the firmware updater's tests: temp folders, scripts, images and small HTTP servers. */

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** A pseudo-random image of `size` bytes. */
export const image = (size: number): Buffer => randomBytes(size);

export const tempDir = (prefix = 'iot-jobs-fw-'): string => mkdtempSync(join(tmpdir(), prefix));

/** Writes an executable `/bin/sh` script and returns its path. */
export const script = (dir: string, name: string, body: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
};

/** What a test server saw of one request. */
export interface SeenRequest {
  readonly path: string;
  readonly range: string | undefined;
  readonly status: number;
  /** Body bytes sent back. */
  readonly bytes: number;
}

/** A small HTTP server on 127.0.0.1 that records each request. */
export interface TestServer {
  readonly base: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

const listen = async (handler: (req: http.IncomingMessage, res: http.ServerResponse, record: (status: number, bytes: number) => void) => void): Promise<TestServer> => {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    handler(req, res, (status, bytes) => {
      seen.push({ path: req.url ?? '', range: req.headers.range, status, bytes });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Forwards every request to `target` (the emulator's file server) and records the Range asked for and the bytes returned. */
export const recordingProxy = (target: string): Promise<TestServer> =>
  listen((req, res, record) => {
    const url = new URL(req.url ?? '/', target);
    const upstream = http.request(url, { method: req.method, headers: req.headers.range === undefined ? {} : { range: req.headers.range } }, (reply) => {
      let bytes = 0;
      reply.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      reply.on('end', () => record(reply.statusCode ?? 0, bytes));
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.end();
  });

/** A server that ignores Range and always answers 200 with the whole of `data`. */
export const ignoringRangeServer = (data: Buffer): Promise<TestServer> =>
  listen((_req, res, record) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) });
    res.end(data);
    record(200, data.length);
  });

/** Runs a handler outside the runner (a fresh execution) and collects its events. */
export const runHandler = <P>(handler: JobHandler<P>, document: unknown, more: { resumed?: boolean; checkpoint?: unknown } = {}): Promise<HandlerEvent[]> => {
  const match = handler.match(document);
  if (match === undefined || !match.ok) throw new Error(`not accepted: ${JSON.stringify(match)}`);
  return lastValueFrom(
    handler
      .run({
        jobId: jobIdOf('job-1'),
        executionNumber: 1,
        document: match.document,
        signal: new AbortController().signal,
        resumed: more.resumed ?? false,
        checkpoint: more.checkpoint,
        step: undefined,
      })
      .pipe(toArray()),
  );
};

/** The terminal event of a handler run. */
export const doneOf = (events: readonly HandlerEvent[]): HandlerEvent | undefined => events.find((event) => event.kind === 'done');
