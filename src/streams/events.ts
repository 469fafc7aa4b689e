import type * as t from 'io-ts';
import { Observable, share, type Subscriber } from '../rx';
import type { ThingName } from '../codecs/primitives';
import { decodeParsed } from '../codecs/decode';
import { DecodeError, type EventName } from '../errors';
import type { EventMessage, JobsTransport } from '../transport/transport';

/** Where an event stream reports a notification it could not decode. */
export type DecodeErrorSink = (error: DecodeError) => void;

const decodeEvent = <E>(event: EventName, codec: t.Decoder<unknown, E>, message: EventMessage): E => {
  const source = { operation: event, payload: message.payload, ...(message.topic === undefined ? {} : { topic: message.topic }) };
  return decodeParsed(codec, message.body, source);
};

/**
 * An event stream: the transport's notifications decoded with `codec`, shared so that any number of
 * subscribers use one transport subscription. A payload that fails its codec fails only itself: it is left
 * out and its DecodeError goes to `report`, and the stream goes on. The transport's errors, and anything a
 * codec throws, end it.
 */
export const eventStream = <E>(
  event: EventName,
  codec: t.Decoder<unknown, E>,
  transport: JobsTransport,
  thingName: ThingName,
  report: DecodeErrorSink,
): Observable<E> =>
  new Observable<E>((subscriber: Subscriber<E>) =>
    transport.events(event, thingName).subscribe({
      next: (message) => {
        if (message.undecodable !== undefined) {
          report(message.undecodable);
          return;
        }
        let value: E;
        try {
          value = decodeEvent(event, codec, message);
        } catch (error) {
          // Anything else (a document codec that throws, say) is not about this one payload.
          if (error instanceof DecodeError) report(error);
          else subscriber.error(error);
          return;
        }
        subscriber.next(value);
      },
      error: (error: unknown) => {
        subscriber.error(error);
      },
      complete: () => {
        subscriber.complete();
      },
    }),
  ).pipe(share());
