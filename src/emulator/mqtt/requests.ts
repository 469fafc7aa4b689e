import * as t from 'io-ts';
import { decodePayload, parseJson } from '../../codecs/decode';
import { nextJobExecutionChangedEvent, JobExecutionsChangedEvent } from '../../codecs/events';
import {
  DescribeJobExecutionRequest,
  GetPendingJobExecutionsRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from '../../codecs/requests';
import {
  GetPendingJobExecutionsResponse,
  RejectedResponse,
  describeJobExecutionResponse,
  startNextPendingJobExecutionResponse,
  updateJobExecutionResponse,
} from '../../codecs/responses';
import { DecodeError } from '../../errors';
import type { JobsTopic } from '../../transport/topics';
import type { Engine } from '../engine/engine';
import type { Notification, Rejection, Result } from '../engine/types';

/**
 * One MQTT request to the emulated service, from payload to reply payload, with the same codecs the client
 * uses. Pure: the binding does the publishing.
 */

/** Largest MQTT payload AWS IoT accepts (128 KB). */
export const maxPayloadBytes = 128 * 1024;

/** A reply to publish: accepted or rejected, and its JSON body. */
export interface MqttReply {
  readonly outcome: 'accepted' | 'rejected';
  readonly body: unknown;
}

type RequestTopic = Extract<JobsTopic, { kind: 'request' }>;

const rejected = (code: Rejection['code'], message: string, now: Date, clientToken: unknown, executionState?: Rejection['executionState']): MqttReply => ({
  outcome: 'rejected',
  body: RejectedResponse.encode({
    code,
    message,
    timestamp: now,
    ...(typeof clientToken === 'string' ? { clientToken } : {}),
    ...(executionState === undefined ? {} : { executionState }),
  }),
});

const settle = <T>(result: Result<T>, encode: (value: T) => unknown, now: Date, clientToken: unknown): MqttReply =>
  result.ok
    ? { outcome: 'accepted', body: encode(result.value) }
    : rejected(result.code, result.message, now, clientToken, result.executionState);

const decodeRequest = <A>(codec: t.Decoder<unknown, A>, value: unknown, payload: string): A | string => {
  try {
    return decodePayload(codec, value, { payload });
  } catch (error) {
    return error instanceof DecodeError ? error.issues.join('; ') : 'invalid request';
  }
};

const Document = t.unknown;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text, or undefined when it is not UTF-8 (the service rejects it as InvalidJson, spec §2.5). */
const utf8 = (payload: Uint8Array): string | undefined => {
  try {
    return strictUtf8.decode(payload);
  } catch {
    return undefined;
  }
};

/** Answers one request published on `topic` with `payload` at time `now`. */
export const answer = (engine: Engine, topic: RequestTopic, payload: Uint8Array, now: Date): MqttReply => {
  if (payload.byteLength > maxPayloadBytes) return rejected('InvalidRequest', `Payload exceeds ${maxPayloadBytes} bytes`, now, undefined);
  const text = utf8(payload);
  if (text === undefined) return rejected('InvalidJson', 'Payload is not valid UTF-8', now, undefined);
  const parsed = parseJson(text);
  if (!parsed.ok) return rejected('InvalidJson', `Payload is not valid JSON: ${parsed.message}`, now, undefined);
  const body = parsed.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return rejected('InvalidRequest', 'Payload must be a JSON object', now, undefined);
  }
  const clientToken: unknown = 'clientToken' in body ? body.clientToken : undefined;
  const meta = { timestamp: now, ...(typeof clientToken === 'string' ? { clientToken } : {}) };
  const thingName = topic.thingName;
  const invalid = (issues: string): MqttReply => rejected('InvalidRequest', issues, now, clientToken);
  switch (topic.operation) {
    case 'getPendingJobExecutions': {
      const request = decodeRequest(GetPendingJobExecutionsRequest, body, text);
      if (typeof request === 'string') return invalid(request);
      return { outcome: 'accepted', body: GetPendingJobExecutionsResponse.encode({ ...engine.getPendingJobExecutions(thingName), ...meta }) };
    }
    case 'startNextPendingJobExecution': {
      const request = decodeRequest(StartNextPendingJobExecutionRequest, body, text);
      if (typeof request === 'string') return invalid(request);
      const codec = startNextPendingJobExecutionResponse(Document);
      return settle(engine.startNextPendingJobExecution(thingName, request), (value) => codec.encode({ ...value, ...meta }), now, clientToken);
    }
    case 'describeJobExecution': {
      const request = decodeRequest(DescribeJobExecutionRequest, { ...body, jobId: topic.jobId }, text);
      if (typeof request === 'string') return invalid(request);
      const codec = describeJobExecutionResponse(Document);
      return settle(engine.describeJobExecution(thingName, request), (value) => codec.encode({ ...value, ...meta }), now, clientToken);
    }
    case 'updateJobExecution': {
      const request = decodeRequest(UpdateJobExecutionRequest, { ...body, jobId: topic.jobId }, text);
      if (typeof request === 'string') return invalid(request);
      const codec = updateJobExecutionResponse(Document);
      return settle(engine.updateJobExecution(thingName, request), (value) => codec.encode({ ...value, ...meta }), now, clientToken);
    }
  }
};

/** The clientToken of a payload, if it is a JSON object that has one (for replies to requests not decoded). */
const tokenOf = (payload: Uint8Array): unknown => {
  const text = utf8(payload);
  const parsed = parseJson(text ?? '');
  return parsed.ok && typeof parsed.value === 'object' && parsed.value !== null && 'clientToken' in parsed.value ? parsed.value.clientToken : undefined;
};

/** A rejection for a topic under the jobs prefix that maps to no API. */
export const invalidTopic = (topic: string, payload: Uint8Array, now: Date): MqttReply =>
  rejected('InvalidTopic', `Topic ${topic} does not map to a Jobs API`, now, tokenOf(payload));

/** A `RequestThrottled` rejection of a request left unrun, echoing its clientToken. */
export const throttled = (message: string, payload: Uint8Array, now: Date): MqttReply => rejected('RequestThrottled', message, now, tokenOf(payload));

const NextEvent = nextJobExecutionChangedEvent(Document);

/** The wire payload of a notification. */
export const notificationPayload = (notification: Notification): unknown =>
  notification.event === 'jobExecutionsChanged'
    ? JobExecutionsChangedEvent.encode(notification.payload)
    : NextEvent.encode(notification.payload);
