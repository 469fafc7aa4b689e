import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The HTTP pieces of the download: one GET, and the parsing of the headers of a range response. */

/** Trusted CA certificates (PEM) for https downloads, instead of Node's default list. */
export type CaOption = string | Buffer | readonly (string | Buffer)[];

/** A decimal count of bytes, or undefined. */
export const count = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined);

/** `bytes 100-199/1000` → { start, end, total }; total undefined for `*`. */
export const contentRange = (header: string | undefined): { start: number; end: number; total: number | undefined } | undefined => {
  const match = header === undefined ? null : /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, start, end, total] = match;
  return { start: Number(start), end: Number(end), total: count(total) };
};

/** `bytes *\/1000` (a 416) → 1000. */
export const unsatisfiedTotal = (header: string | undefined): number | undefined => count(header === undefined ? undefined : /^bytes \*\/(\d{1,15})$/.exec(header.trim())?.[1]);

/** Sends a GET (not ended: call `end()`); https always verifies the server's certificate. */
export const get = (url: URL, headers: Readonly<Record<string, string>>, ca: CaOption | undefined, onResponse: (response: IncomingMessage) => void): ClientRequest => {
  if (url.protocol !== 'https:') return httpRequest(url, { headers: { ...headers } }, onResponse);
  const trusted = ca === undefined ? {} : { ca: typeof ca === 'string' || Buffer.isBuffer(ca) ? ca : [...ca] };
  return httpsRequest(url, { headers: { ...headers }, rejectUnauthorized: true, ...trusted }, onResponse);
};

