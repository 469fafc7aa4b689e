import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';

/**
 * What both HTTP bindings of the emulator share: reading a bounded request body and writing restJson1
 * replies the AWS SDKs understand (`Date` for clock-skew correction, `x-amzn-ErrorType` naming the exception).
 */

/** An AWS-style HTTP failure: the exception name (the `x-amzn-ErrorType` header), its status and message. */
export interface HttpFailure {
  readonly exception: string;
  readonly status: number;
  readonly message: string;
}

/** The largest request body the emulator reads: 1 MB. */
export const maxBodyBytes = 1_048_576;

/** The outcome of {@link readBody}. */
export type BodyText = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly failure: HttpFailure };

const tooLarge = (limitBytes: number): BodyText => ({
  ok: false,
  failure: { exception: 'InvalidRequestException', status: 413, message: `Request body exceeds ${limitBytes} bytes` },
});

/**
 * Reads the request body as UTF-8, at most `limitBytes` (default {@link maxBodyBytes}). A larger body is
 * not buffered: it resolves with a 413 failure at once and the rest is drained, so the reply still arrives.
 */
export const readBody = (req: http.IncomingMessage, limitBytes = maxBodyBytes): Promise<BodyText> =>
  new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limitBytes) {
      req.resume();
      resolve(tooLarge(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: unknown) => {
      if (settled) return;
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += bytes.length;
      if (size > limitBytes) {
        settled = true;
        chunks.length = 0;
        resolve(tooLarge(limitBytes));
        return;
      }
      chunks.push(bytes);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });

/**
 * Writes a JSON reply (no body when `body` is undefined) with `Date` from the emulator's clock (epoch ms)
 * and a fresh `x-amzn-RequestId`. Does nothing once a reply has been started.
 */
export const sendJson = (
  res: http.ServerResponse,
  nowMs: number,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void => {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    Date: new Date(nowMs).toUTCString(),
    'x-amzn-RequestId': randomUUID(),
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
};

/** Writes an AWS error reply: `x-amzn-ErrorType` header and a `{"message"}` body. */
export const sendFailure = (res: http.ServerResponse, nowMs: number, failure: HttpFailure): void => {
  sendJson(res, nowMs, failure.status, { message: failure.message }, { 'x-amzn-ErrorType': failure.exception });
};
