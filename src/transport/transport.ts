import type { Observable } from '../rx';
import type { Parsed } from '../codecs/decode';
import type { JobIdOrNext, ThingName } from '../codecs/primitives';
import type { DecodeError, EventName, OperationName } from '../errors';
import type { Outcome } from './topics';

/**
 * The port every transport implements (MQTT, HTTPS): one request in, its replies out, plus the two event
 * streams. The request pipeline (src/streams/request.ts) does the rest, the same way for all of them.
 */

/** A JSON object as encoded by a request codec. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** One request, validated and encoded. */
export interface Call {
  /** Which of the four operations. */
  readonly operation: OperationName;
  /** The thing the request acts for. */
  readonly thingName: ThingName;
  /** The job the request is about (Describe and Update); `$next` for Describe only. */
  readonly jobId?: JobIdOrNext;
  /** Correlation key. MQTT sends it in `payload`; HTTPS keeps it client-side. */
  readonly clientToken: string;
  /** The request body in wire form, without `jobId` or `thingName`. */
  readonly payload: JsonObject;
}

/** One reply from the service, before decoding. */
export interface Reply {
  /** Accepted or rejected: the reply topic's last segment, or the HTTP status class. */
  readonly outcome: Outcome;
  /** The reply's correlation key, when one could be read. */
  readonly clientToken?: string;
  /** The payload as received. */
  readonly payload: string;
  /** The payload parsed as JSON (or why it could not be). */
  readonly body: Parsed;
  /** MQTT topic the reply came on. */
  readonly topic?: string;
  /** HTTP status (HTTPS only). */
  readonly httpStatus?: number;
  /** HTTP exception name from `x-amzn-ErrorType` (HTTPS only). */
  readonly exceptionName?: string;
}

/** One notification, before decoding. */
export interface EventMessage {
  /** The payload as received. */
  readonly payload: string;
  /** The payload parsed as JSON (or why it could not be). */
  readonly body: Parsed;
  /** MQTT topic the notification came on (absent for one synthesised by HTTPS polling). */
  readonly topic?: string;
  /**
   * Set when the transport could not make a notification of what it received (an HTTPS poll reply that
   * failed its codec): the event stream reports this error instead of decoding the message.
   */
  readonly undecodable?: DecodeError;
}

/** How a transport carries job documents: embedded objects (MQTT) or JSON strings (HTTPS). */
export type DocumentEncoding = 'object' | 'json-string';

/** A way to reach the AWS IoT Jobs device API. */
export interface JobsTransport {
  /** How job documents appear in replies and events. */
  readonly documentEncoding: DocumentEncoding;
  /**
   * Sends `call` once per subscription and emits the replies that may belong to it; the pipeline keeps the
   * one whose `clientToken` matches. Errors with `TransportError` when the request cannot be sent.
   */
  request(call: Call): Observable<Reply>;
  /** The notifications of `event` for `thingName`, for as long as the subscription lasts. */
  events(event: EventName, thingName: ThingName): Observable<EventMessage>;
}
