import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { asyncScheduler, lastValueFrom, toArray } from 'rxjs';
import { type DownloadEvent, type DownloadOptions, DownloadError, download } from '../../../src/agent/firmware/download';
import { urlPolicy } from '../../../src/agent/firmware/url-policy';
import { type Emulator, startEmulator } from '../../../src/emulator';
import { type TestServer, ignoringRangeServer, image, recordingProxy, tempDir } from './helpers';

jest.setTimeout(60_000);

const options = (url: string, file: string, more: Partial<DownloadOptions> = {}): DownloadOptions => ({
  url,
  file,
  expectedSize: undefined,
  maxBytes: 10 * 1024 * 1024,
  ca: undefined,
  idleTimeoutMs: 10_000,
  attempts: 1,
  retryDelayMs: 10,
  policy: urlPolicy(undefined),
  signal: new AbortController().signal,
  scheduler: asyncScheduler,
  ...more,
});

const run = (opts: DownloadOptions): Promise<DownloadEvent[]> => lastValueFrom(download(opts).pipe(toArray()));
const failure = async (opts: DownloadOptions): Promise<unknown> => run(opts).then(() => undefined, (error: unknown) => error);

describe('firmware download', () => {
  let emu: Emulator;
  const servers: TestServer[] = [];
  let dir: string;

  beforeEach(async () => {
    emu = await startEmulator();
    dir = tempDir();
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await emu.close();
  });

  it('firmware download - resumes a partial file with a Range request and appends only the rest', async () => {
    const data = image(300_000);
    emu.files.put('fw.bin', data);
    const proxy = await recordingProxy(emu.controlEndpoint);
    servers.push(proxy);
    const file = join(dir, 'fw.part');
    writeFileSync(file, data.subarray(0, 100_000)); // what a run before a restart left

    const events = await run(options(`${proxy.base}/files/fw.bin`, file));

    expect(proxy.seen).toEqual([{ path: '/files/fw.bin', range: 'bytes=100000-', status: 206, bytes: 200_000 }]);
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(events[0]).toEqual({ kind: 'progress', received: 100_000, total: 300_000 });
    expect(events[events.length - 1]).toEqual({ kind: 'complete', size: 300_000 });
  });

  it('firmware download - a complete part file is answered 416 with its size and is not downloaded again', async () => {
    const data = image(50_000);
    emu.files.put('fw.bin', data);
    const proxy = await recordingProxy(emu.controlEndpoint);
    servers.push(proxy);
    const file = join(dir, 'fw.part');
    writeFileSync(file, data);

    const events = await run(options(`${proxy.base}/files/fw.bin`, file));

    expect(proxy.seen).toEqual([{ path: '/files/fw.bin', range: 'bytes=50000-', status: 416, bytes: 0 }]);
    expect(events).toEqual([{ kind: 'complete', size: 50_000 }]);
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it('firmware download - a part file longer than the served file starts over from byte 0', async () => {
    const data = image(20_000);
    emu.files.put('fw.bin', data);
    const proxy = await recordingProxy(emu.controlEndpoint);
    servers.push(proxy);
    const file = join(dir, 'fw.part');
    writeFileSync(file, image(30_000)); // a stale, longer file: 416 with another size

    await run(options(`${proxy.base}/files/fw.bin`, file));

    expect(proxy.seen.map(({ range, status }) => [range, status])).toEqual([
      ['bytes=30000-', 416],
      [undefined, 200],
    ]);
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it('firmware download - a server that ignores Range (200) makes it start over from 0, never append', async () => {
    const data = image(40_000);
    const server = await ignoringRangeServer(data);
    servers.push(server);
    const file = join(dir, 'fw.part');
    writeFileSync(file, 'garbage that must not stay in front');

    await run(options(`${server.base}/fw.bin`, file));

    expect(server.seen).toEqual([{ path: '/fw.bin', range: 'bytes=35-', status: 200, bytes: 40_000 }]);
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it('firmware download - a stalled attempt is dropped after the idle time and the retry resumes with Range', async () => {
    const data = image(64_000);
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.range);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range === null) {
        res.writeHead(200, { 'content-length': String(data.length) });
        res.write(data.subarray(0, 16_000)); // then stall
        return;
      }
      const start = Number(range[1]);
      res.writeHead(206, { 'content-length': String(data.length - start), 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
      res.end(data.subarray(start));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const file = join(dir, 'fw.part');
    try {
      await run(options(`http://127.0.0.1:${port}/fw.bin`, file, { idleTimeoutMs: 300, attempts: 3 }));
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(seen).toEqual([undefined, 'bytes=16000-']);
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it('firmware download - more bytes than the limit stop the download, without retries', async () => {
    emu.files.put('big.bin', image(5000));
    const proxy = await recordingProxy(emu.controlEndpoint);
    servers.push(proxy);
    const error = await failure(options(`${proxy.base}/files/big.bin`, join(dir, 'big.part'), { maxBytes: 1000, attempts: 3 }));
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toMatchObject({ retriable: false, message: 'the file is 5000 bytes, more than the limit of 1000' });
    expect(proxy.seen).toHaveLength(1);
  });

  it('firmware download - a size other than the document says is refused before writing', async () => {
    const { url } = emu.files.put('fw.bin', image(5000));
    const file = join(dir, 'fw.part');
    const error = await failure(options(url, file, { expectedSize: 4000 }));
    expect(error).toMatchObject({ name: 'DownloadError', message: "the server's file is 5000 bytes, the job document says 4000" });
    expect(existsSync(file)).toBe(false);
  });

  it('firmware download - HTTP 404 is not retried; the message carries no query string', async () => {
    const proxy = await recordingProxy(emu.controlEndpoint);
    servers.push(proxy);
    const error = await failure(options(`${proxy.base}/files/missing.bin?X-Amz-Signature=secret`, join(dir, 'x.part'), { attempts: 4 }));
    expect(error).toMatchObject({ name: 'DownloadError', retriable: false, message: `HTTP 404 from ${proxy.base}/files/missing.bin` });
    expect(proxy.seen).toHaveLength(1);
  });

  it('firmware download - a redirect to a URL the policy refuses fails the download', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'http://example.com/fw.bin' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await failure(options(`http://127.0.0.1:${port}/fw.bin`, join(dir, 'r.part')));
      expect(error).toMatchObject({ name: 'DownloadError', message: expect.stringContaining('download refused: plain http:// is accepted only for loopback hosts') });
    } finally {
      server.close();
    }
  });

  it('firmware download - a malformed redirect fails the download instead of crashing the process', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'http://[::1' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await failure(options(`http://127.0.0.1:${port}/fw.bin`, join(dir, 'm.part')));
      expect(error).toMatchObject({ name: 'DownloadError', retriable: false, message: expect.stringContaining('invalid redirect') });
    } finally {
      server.close();
    }
  });

  it('firmware download - an aborted signal stops it with a non-retriable error', async () => {
    emu.files.put('fw.bin', image(1000));
    const controller = new AbortController();
    controller.abort();
    const error = await failure(options(`${emu.controlEndpoint}/files/fw.bin`, join(dir, 'a.part'), { signal: controller.signal, attempts: 3 }));
    expect(error).toMatchObject({ name: 'DownloadError', retriable: false, message: 'the download was aborted' });
  });
});
