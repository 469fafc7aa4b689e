import { createHash } from 'node:crypto';
import http from 'node:http';
import { startEmulator, type Emulator } from '../../src/emulator';
import { decideRange } from '../../src/emulator/http/byte-range';

/** Files served under /files/ on the control-plane port: GET, HEAD, single byte ranges, ETag. */

interface RawReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A raw request: the path goes out exactly as written (no normalisation of `..`). */
const request = (base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<RawReply> => {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
};

const firmware = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) % 256);
const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

let emu: Emulator;
const get = (path: string, headers: Record<string, string> = {}) => request(emu.controlEndpoint, 'GET', path, headers);

beforeEach(async () => {
  emu = await startEmulator({ files: { 'preloaded.txt': 'hello from the emulator' } });
});

afterEach(async () => {
  await emu.close();
});

describe('emulator files', () => {
  it('files - put returns the URL, sha256 and size; GET serves the bytes with length, type, ETag and Accept-Ranges', async () => {
    const served = emu.files.put('fw-1.2.3.bin', firmware);
    expect(served).toEqual({ url: `${emu.controlEndpoint}/files/fw-1.2.3.bin`, sha256: sha256(firmware), size: 1000 });
    const reply = await get('/files/fw-1.2.3.bin');
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({
      'content-length': '1000',
      'content-type': 'application/octet-stream',
      etag: `"${sha256(firmware)}"`,
      'accept-ranges': 'bytes',
    });
    expect(Buffer.compare(reply.body, Buffer.from(firmware))).toBe(0);
    expect(sha256(reply.body)).toBe(served.sha256);
  });

  it('files - the URL works with fetch, a query string is ignored', async () => {
    const { url } = emu.files.put('a.bin', firmware);
    const response = await fetch(`${url}?X-Amz-Signature=abc`);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(firmware);
  });

  it('files - preloaded files are served; a string is stored as UTF-8', async () => {
    const reply = await get('/files/preloaded.txt');
    expect(reply.body.toString('utf8')).toBe('hello from the emulator');
    expect(reply.headers.etag).toBe(`"${sha256('hello from the emulator')}"`);
    expect(emu.files.put('snow.txt', 'snö')).toMatchObject({ size: 4, sha256: sha256(Buffer.from('snö', 'utf8')) });
  });

  it('files - bytes are copied at put: changing the caller\'s buffer later changes nothing', async () => {
    const data = Uint8Array.from([1, 2, 3]);
    emu.files.put('copy.bin', data);
    data[0] = 9;
    expect([...(await get('/files/copy.bin')).body]).toEqual([1, 2, 3]);
  });

  it('files - put again replaces the file and its ETag', async () => {
    emu.files.put('fw.bin', 'v1');
    const first = await get('/files/fw.bin');
    emu.files.put('fw.bin', 'version 2');
    const second = await get('/files/fw.bin');
    expect(second.body.toString()).toBe('version 2');
    expect(second.headers.etag).not.toBe(first.headers.etag);
  });

  it('files - HEAD has the GET headers and no body, and ignores Range', async () => {
    emu.files.put('fw.bin', firmware);
    const reply = await request(emu.controlEndpoint, 'HEAD', '/files/fw.bin', { Range: 'bytes=0-9' });
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({ 'content-length': '1000', etag: `"${sha256(firmware)}"`, 'accept-ranges': 'bytes' });
    expect(reply.body.length).toBe(0);
  });

  it('files - a single byte range is 206 with Content-Range: N-M, N-, -N, and an end past the file', async () => {
    emu.files.put('fw.bin', firmware);
    const cases: readonly [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=990-', 990, 999],
      ['bytes=-5', 995, 999],
      ['bytes=500-5000', 500, 999],
      ['bytes=0-0', 0, 0],
      ['bytes=-5000', 0, 999],
    ];
    for (const [range, start, end] of cases) {
      const reply = await get('/files/fw.bin', { Range: range });
      expect({ range, status: reply.status, contentRange: reply.headers['content-range'], length: reply.headers['content-length'] }).toEqual({
        range,
        status: 206,
        contentRange: `bytes ${start}-${end}/1000`,
        length: String(end - start + 1),
      });
      expect(Buffer.compare(reply.body, Buffer.from(firmware.subarray(start, end + 1)))).toBe(0);
      expect(reply.headers.etag).toBe(`"${sha256(firmware)}"`);
    }
  });

  it('files - a range starting past the end is 416 with Content-Range: bytes */size', async () => {
    emu.files.put('fw.bin', firmware);
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const reply = await get('/files/fw.bin', { Range: range });
      expect({ range, status: reply.status, contentRange: reply.headers['content-range'], body: reply.body.length }).toEqual({
        range,
        status: 416,
        contentRange: 'bytes */1000',
        body: 0,
      });
    }
    emu.files.put('empty.bin', '');
    expect((await get('/files/empty.bin', { Range: 'bytes=0-' })).status).toBe(416);
    expect((await get('/files/empty.bin')).headers['content-length']).toBe('0');
  });

  it('files - a multi-range or malformed Range is ignored: 200 with the whole file', async () => {
    emu.files.put('fw.bin', firmware);
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'items=0-9', 'bytes=abc', 'bytes=-', 'bytes 0-9']) {
      const reply = await get('/files/fw.bin', { Range: range });
      expect({ range, status: reply.status, length: reply.body.length, contentRange: reply.headers['content-range'] }).toEqual({
        range,
        status: 200,
        length: 1000,
        contentRange: undefined,
      });
    }
  });

  it('files - If-Range: the current ETag gets the range, another validator the whole file', async () => {
    const { sha256: hash } = emu.files.put('fw.bin', firmware);
    expect((await get('/files/fw.bin', { Range: 'bytes=0-9', 'If-Range': `"${hash}"` })).status).toBe(206);
    const stale = await get('/files/fw.bin', { Range: 'bytes=0-9', 'If-Range': '"0000"' });
    expect({ status: stale.status, length: stale.body.length }).toEqual({ status: 200, length: 1000 });
  });

  it('files - an unknown or removed name is 404; remove says whether there was a file', async () => {
    emu.files.put('fw.bin', firmware);
    expect((await get('/files/other.bin')).status).toBe(404);
    expect(emu.files.remove('fw.bin')).toBe(true);
    expect(emu.files.remove('fw.bin')).toBe(false);
    expect((await get('/files/fw.bin')).status).toBe(404);
  });

  it('files - bad names: put and remove throw RangeError; such paths are 404; startEmulator refuses a bad preload', async () => {
    for (const name of ['', '.', '..', 'a/b', 'a b', 'ü.bin', 'x'.repeat(129), '%2e%2e']) {
      expect(() => emu.files.put(name, 'x')).toThrow(RangeError);
      expect(() => emu.files.remove(name)).toThrow(RangeError);
    }
    expect(emu.files.put('x'.repeat(128), 'ok').size).toBe(2);
    expect(emu.files.put('...', 'dots').size).toBe(4);
    emu.files.put('secret', 's');
    for (const path of ['/files/..', '/files/.', '/files/', '/files/a/secret', '/files/%2e%2e', '/files/../files/secret']) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 404 });
    }
    await expect(startEmulator({ files: { '../etc': 'x' } })).rejects.toThrow(RangeError);
  });

  it('files - other methods are 405 with Allow; the control plane still answers beside /files/', async () => {
    emu.files.put('fw.bin', firmware);
    const put = await request(emu.controlEndpoint, 'PUT', '/files/fw.bin');
    expect({ status: put.status, allow: put.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
    const jobs = await get('/jobs');
    expect(jobs.status).toBe(200);
    expect(JSON.parse(jobs.body.toString())).toEqual({ jobs: [] });
    expect((await get('/files')).headers['x-amzn-errortype']).toBe('UnknownOperationException');
  });
});

describe('decideRange', () => {
  it('decideRange - whole, partial and unsatisfiable decisions', () => {
    expect(decideRange(undefined, 10)).toEqual({ kind: 'whole' });
    expect(decideRange('BYTES=2-3', 10)).toEqual({ kind: 'partial', start: 2, end: 3 });
    expect(decideRange('bytes = 2-', 10)).toEqual({ kind: 'partial', start: 2, end: 9 });
    expect(decideRange('bytes=-3', 2)).toEqual({ kind: 'partial', start: 0, end: 1 });
    expect(decideRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=3-2', 10)).toEqual({ kind: 'whole' });
    expect(decideRange('bytes=1-2, 4-5', 10)).toEqual({ kind: 'whole' });
  });
});
