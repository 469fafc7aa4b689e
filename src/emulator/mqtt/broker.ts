import * as net from 'node:net';
import * as tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Engine } from '../engine/engine';
import type { Notification } from '../engine/types';
import { openGate, type DeviceGate } from '../device-gate';
import { notificationMessage, serviceReply, type ServiceMessage } from './service-reply';

/**
 * The emulator's MQTT side: an aedes broker with the Jobs service on the reserved topics. Requests are
 * answered on `…/accepted` or `…/rejected`; notifications go to `…/notify` and `…/notify-next`.
 */

/** Options of {@link startJobsBroker}. */
export interface JobsBrokerOptions {
  readonly engine: Engine;
  readonly now: () => number;
  readonly host: string;
  readonly port: number;
  /** A device may only touch its own thing's topics (client id or certificate CN = thing name). */
  readonly strict: boolean;
  /** Mutual TLS: server certificate and key, and the CA that issued device certificates. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Rate limit and injected faults for device requests (./device-gate.ts). Default: every request served. */
  readonly gate?: DeviceGate;
}

/** A running Jobs broker. */
export interface JobsBroker {
  readonly url: string;
  readonly port: number;
  readonly publishNotification: (notification: Notification) => void;
  /** Drops the connections of the devices acting for `thingName` (all when absent); returns how many. */
  readonly disconnect: (thingName?: string) => number;
  readonly close: () => Promise<void>;
}

/** The thing a client may act for: its certificate's CN under TLS, else its client id. */
const identityOf = (client: Client): string => {
  const conn = client.conn;
  if (conn instanceof tls.TLSSocket) {
    const cn: unknown = conn.getPeerCertificate().subject.CN;
    if (typeof cn === 'string') return cn;
  }
  return client.id;
};

const ownsTopic = (client: Client | null, topic: string): boolean => {
  if (client === null) return true;
  const identity = identityOf(client);
  return topic.startsWith(`$aws/things/${identity}/`);
};

/** Starts an aedes broker with the Jobs service attached. */
export const startJobsBroker = async (options: JobsBrokerOptions): Promise<JobsBroker> => {
  const { engine, now, gate = openGate } = options;
  const aedes = await Aedes.createBroker({
    authorizePublish: (client, packet, callback) => {
      const topic = packet.topic;
      if (client === null || !topic.startsWith('$aws/things/')) {
        callback(null);
        return;
      }
      if (options.strict && !ownsTopic(client, topic)) {
        callback(new Error(`client ${client.id} may not publish to ${topic}`));
        return;
      }
      // AWS IoT supports QoS 0 and 1 only: a QoS 2 request is not served (spec §2.1).
      if (packet.qos === 2) {
        callback(null);
        return;
      }
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const answered = serviceReply(engine, gate, topic, payload, new Date(now()));
      callback(null);
      if (answered !== undefined) publish(answered);
    },
    authorizeSubscribe: (client, subscription, callback) => {
      // A refused filter gets SUBACK 128 (the connection stays up), as AWS IoT answers an unauthorized one. QoS 2
      // is refused so too (AWS IoT sends no SUBACK at all: a client would wait instead of learning why).
      if (subscription.qos === 2 || (options.strict && subscription.topic.startsWith('$aws/') && !ownsTopic(client, subscription.topic))) {
        callback(null, null);
        return;
      }
      callback(null, subscription);
    },
  });
  const publish = (message: ServiceMessage): void => {
    aedes.publish({ cmd: 'publish', topic: message.topic, payload: Buffer.from(JSON.stringify(message.body)), qos: 1, retain: false, dup: false }, () => undefined);
  };
  const connected = new Set<Client>();
  aedes.on('client', (client) => connected.add(client));
  aedes.on('clientDisconnect', (client) => connected.delete(client));
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    aedes.handle(socket);
  };
  const server = options.tls
    ? tls.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }, onSocket)
    : net.createServer(onSocket);
  const closeAedes = (): Promise<void> =>
    new Promise<void>((resolve) => {
      aedes.close(() => {
        resolve();
      });
    });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // The port is taken (say): aedes's timers would keep the process alive for nothing.
    await closeAedes();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${hostInUrl}:${port}`,
    port,
    publishNotification: (notification) => {
      const message = notificationMessage(notification);
      if (message !== undefined) publish(message);
    },
    disconnect: (thingName) => {
      const dropped = [...connected].filter((client) => !client.conn.destroyed && (thingName === undefined || identityOf(client) === thingName));
      for (const client of dropped) {
        connected.delete(client);
        client.conn.destroy();
      }
      return dropped.length;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeAedes();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
};
