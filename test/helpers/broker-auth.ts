import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AedesOptions } from 'aedes';
import type { TestBroker } from './broker';

/**
 * An in-process aedes broker like `startBroker()`, with aedes hooks (authenticate, authorizeSubscribe,
 * preConnect…) and optionally behind a Node TLS server, as AWS IoT Core is (mutual TLS, ALPN).
 */
export interface AuthBrokerOptions {
  /** aedes options, e.g. `authorizeSubscribe` to refuse a filter (SUBACK 128). */
  readonly aedes?: AedesOptions;
  /** Serve MQTT over TLS with these server options (`mqtts://` URL) instead of plain TCP. */
  readonly tls?: tls.TlsOptions;
}

export interface AuthBroker extends TestBroker {
  /** Every TCP connection the server accepted, in order (also those whose TLS handshake failed). */
  readonly connections: () => number;
  /** ALPN protocol of each TLS connection that completed its handshake (`false`: none negotiated). */
  readonly alpnProtocols: () => readonly (string | false)[];
  /** SNI server name of each TLS connection that completed its handshake (`false`: none sent). */
  readonly serverNames: () => readonly (string | false)[];
}

export const startAuthBroker = async (options: AuthBrokerOptions = {}): Promise<AuthBroker> => {
  const aedes = await Aedes.createBroker(options.aedes);
  const sockets = new Set<net.Socket>();
  const alpnProtocols: (string | false)[] = [];
  const serverNames: (string | false)[] = [];
  let connections = 0;
  const track = (socket: net.Socket): void => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server =
    options.tls === undefined
      ? net.createServer((socket) => {
          socket.setNoDelay(true);
          aedes.handle(socket);
        })
      : tls.createServer(options.tls, (socket) => {
          socket.setNoDelay(true);
          alpnProtocols.push(socket.alpnProtocol ?? false);
          serverNames.push(socket.servername ?? false);
          aedes.handle(socket);
        });
  // 'connection' carries the raw TCP socket for both servers, before any TLS handshake.
  server.on('connection', track);
  // A refused handshake is an expected outcome here; without a listener it would only be logged.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `${options.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${port}`,
    port,
    aedes,
    connections: () => connections,
    alpnProtocols: () => [...alpnProtocols],
    serverNames: () => [...serverNames],
    dropClients: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => { aedes.close(() => { resolve(); }); });
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
};
