import type * as t from 'io-ts';
import { type Observable, map, share } from '../rx';
import type { ThingName } from '../codecs/primitives';
import { decodeParsed } from '../codecs/decode';
import type { EventName } from '../errors';
import type { EventMessage, JobsTransport } from '../transport/transport';

const decodeEvent = <E>(event: EventName, codec: t.Decoder<unknown, E>, message: EventMessage): E => {
  const source = { operation: event, payload: message.payload, ...(message.topic === undefined ? {} : { topic: message.topic }) };
  return decodeParsed(codec, message.body, source);
};

/**
 * An event stream: the transport's notifications decoded with `codec`, shared so that any number of
 * subscribers use one transport subscription. A payload that fails its codec errors the stream with
 * DecodeError; the stream is ref-counted, so `retry()` resubscribes cleanly.
 */
export const eventStream = <E>(
  event: EventName,
  codec: t.Decoder<unknown, E>,
  transport: JobsTransport,
  thingName: ThingName,
): Observable<E> =>
  transport.events(event, thingName).pipe(
    map((message) => decodeEvent(event, codec, message)),
    share(),
  );
