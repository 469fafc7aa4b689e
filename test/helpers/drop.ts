import type { MqttClient, Packet } from 'mqtt';
import { firstValueFrom, type Observable } from 'rxjs';

/** What happened to a request that was in flight when its client's connection dropped. */
export interface InFlightAtDrop<T> {
  /** The request's value or error. */
  readonly outcome: Promise<T>;
  /** `sessionPresent` of the first CONNACK after the drop (a queued reply may come before it is told). */
  readonly sessionPresent: Promise<boolean>;
  /** Whether the request was still waiting when the connection dropped: resolves at the drop. */
  readonly pendingAtDrop: Promise<boolean>;
}

/**
 * When to drop: `sent`, once the request's PUBLISH has left (the broker may or may not read it before the
 * connection ends); `acknowledged`, at its PUBACK (the broker has it; its reply is still to come).
 */
export type DropPoint = 'sent' | 'acknowledged';

/**
 * Subscribes to `request`, then destroys the client's socket at `at`, as a network failure would; mqtt.js
 * then reconnects by itself.
 */
export const inFlightAtDrop = <T>(client: MqttClient, request: Observable<T>, at: DropPoint): InFlightAtDrop<T> => {
  let settled = false;
  let reconnected: (present: boolean) => void = () => undefined;
  const sessionPresent = new Promise<boolean>((resolve) => {
    reconnected = resolve;
  });
  // Watching before the request starts: its PUBLISH may go out while it is subscribed.
  const pendingAtDrop = new Promise<boolean>((resolve) => {
    const drop = (): void => {
      client.once('connect', (connack) => { reconnected(connack.sessionPresent); });
      resolve(!settled);
      client.stream.destroy();
    };
    const watched = at === 'sent' ? 'packetsend' : 'packetreceive';
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== (at === 'sent' ? 'publish' : 'puback')) return;
      client.removeListener(watched, onPacket);
      // After mqtt.js has handed the PUBLISH to the socket (it uncorks on the next tick).
      if (at === 'sent') setImmediate(drop);
      else drop();
    };
    client.on(watched, onPacket);
  });
  const outcome = firstValueFrom(request).finally(() => {
    settled = true;
  });
  return { outcome, sessionPresent, pendingAtDrop };
};
