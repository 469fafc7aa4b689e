import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';

/** One request as the test server got it. */
export interface RecordedRequest {
  readonly method: string;
  /** The request target exactly as sent (path and query). */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** CN of the client certificate (mutual TLS servers only). */
  readonly clientCn?: string;
  /** Resolves when the request's connection closes. */
  readonly closed: Promise<void>;
}

/** A local HTTP(S) server that records requests and lets the test answer them. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  readonly close: () => Promise<void>;
}

/** Answers a recorded request; leave `res` alone to hang. */
export type TestHandler = (request: RecordedRequest, res: http.ServerResponse) => void;

/** Options for a TLS server: its key pair, and the CA whose client certificates it requires (if any). */
export interface TestServerTls {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

const cnOf = (req: http.IncomingMessage): string | undefined => {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject.CN;
  return typeof cn === 'string' ? cn : undefined;
};

/** JSON reply helper. */
export const replyJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

/** Starts a server on 127.0.0.1 and an ephemeral port. */
export const startTestServer = async (handler: TestHandler, tls?: TestServerTls): Promise<TestServer> => {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  // One 'close' listener per connection, however many requests a kept-alive connection carries.
  const closedOf = new WeakMap<object, Promise<void>>();
  const closedPromise = (socket: http.IncomingMessage['socket']): Promise<void> => {
    const known = closedOf.get(socket);
    if (known !== undefined) return known;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    closedOf.set(socket, closed);
    return closed;
  };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    const closed = closedPromise(req.socket);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const clientCn = cnOf(req);
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        closed,
        ...(clientCn === undefined ? {} : { clientCn }),
      };
      requests.push(recorded);
      handler(recorded, res);
    });
  };
  const server =
    tls === undefined
      ? http.createServer(listener)
      : https.createServer({ cert: tls.cert, key: tls.key, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }) }, listener);
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address: string | AddressInfo | null = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Resolves once `server` has recorded `count` requests (polling every 5 ms, up to `ms`). */
export const waitForRequests = async (server: TestServer, count: number, ms = 2000): Promise<void> => {
  const start = Date.now();
  while (server.requests.length < count) {
    if (Date.now() - start > ms) throw new Error(`expected ${count} requests, got ${server.requests.length}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
