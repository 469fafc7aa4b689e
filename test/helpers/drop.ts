import type { MqttClient } from 'mqtt';
import { firstValueFrom, type Observable } from 'rxjs';

/** What happened to a request that was in flight when its client's connection dropped. */
export interface InFlightAtDrop<T> {
  /** The request's value or error. */
  readonly outcome: Promise<T>;
  /** `sessionPresent` of every CONNACK after the drop. */
  readonly sessions: readonly boolean[];
}

/**
 * Subscribes to `request` (the PUBLISH goes out at once if its filter is granted), then destroys the client's
 * socket, as a network failure would; mqtt.js then reconnects by itself.
 */
export const inFlightAtDrop = <T>(client: MqttClient, request: Observable<T>): InFlightAtDrop<T> => {
  const sessions: boolean[] = [];
  client.on('connect', (connack) => sessions.push(connack.sessionPresent));
  const outcome = firstValueFrom(request);
  client.stream.destroy();
  return { outcome, sessions };
};
