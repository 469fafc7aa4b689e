import type * as http from 'node:http';
import type { FileStore } from '../file-store';
import { decideRange } from './byte-range';

/**
 * Serves the emulator's files (../file-store.ts) under `/files/<name>` on the control-plane port, as a plain
 * static file server: GET and HEAD, a strong ETag (the SHA-256), single byte ranges with If-Range. The query
 * string is ignored, so a URL that looks presigned works too.
 */

/** The path prefix of served files; no control-plane route starts with it. */
export const filesPrefix = '/files/';

/** Whether a request target (path and query) is a file's. */
export const isFilesTarget = (target: string): boolean => target.startsWith(filesPrefix);

const sendText = (res: http.ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void => {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
};

/**
 * A `node:http` listener for `/files/...` targets. Answers: 200 (whole file), 206 with Content-Range (one
 * satisfiable byte range of a GET), 416 with a Content-Range giving the size, 404 (no such file, or a name
 * that cannot be one), 405 (methods other than GET and HEAD). A multi-range or malformed Range, or an
 * If-Range that is not the current ETag, gets the whole file.
 */
export const filesHandler =
  (store: FileStore) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const name = (mark < 0 ? target : target.slice(0, mark)).slice(filesPrefix.length);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, `Method ${method} not allowed on files\n`, { Allow: 'GET, HEAD' });
      return;
    }
    // Taken once: a file replaced mid-download does not mix two versions in one reply.
    const file = store.get(name);
    if (file === undefined) {
      sendText(res, 404, `No file ${name}\n`);
      return;
    }
    const { bytes, sha256 } = file;
    const etag = `"${sha256}"`;
    const common = { 'Content-Type': 'application/octet-stream', ETag: etag, 'Accept-Ranges': 'bytes' };
    const ifRange = req.headers['if-range'];
    // Ranges apply to GET only (RFC 9110 §14.2); If-Range must be the current strong ETag.
    const range = method === 'GET' && (ifRange === undefined || ifRange === etag) ? req.headers.range : undefined;
    const decision = decideRange(range, bytes.byteLength);
    switch (decision.kind) {
      case 'whole':
        res.writeHead(200, { ...common, 'Content-Length': String(bytes.byteLength) });
        if (method === 'HEAD') res.end();
        else res.end(bytes);
        return;
      case 'partial': {
        const { start, end } = decision;
        res.writeHead(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${bytes.byteLength}`, 'Content-Length': String(end - start + 1) });
        res.end(bytes.subarray(start, end + 1));
        return;
      }
      case 'unsatisfiable':
        res.writeHead(416, { ...common, 'Content-Range': `bytes */${bytes.byteLength}`, 'Content-Length': '0' });
        res.end();
        return;
    }
  };
