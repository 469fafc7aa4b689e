import { isThingName } from '../../codecs/primitives';
import { eventTopic, parseJobsTopic, replyTopic } from '../../transport/topics';
import type { DeviceGate } from '../device-gate';
import type { Engine } from '../engine/engine';
import type { Notification } from '../engine/types';
import { answer, invalidTopic, notificationPayload, throttled } from './requests';

/**
 * What the Jobs service publishes, on whatever broker carries it: the aedes binding (./broker.ts), or a
 * client of another broker (the tests' mosquitto bridge).
 */
export interface ServiceMessage {
  readonly topic: string;
  /** The JSON body. */
  readonly body: unknown;
}

const jobsNamespace = /^\$aws\/things\/[^/]*\/jobs(\/|$)/;

/**
 * The Jobs service's answer to a message a device published on `topic`, whatever broker carried it:
 * a reply to a request (or its rejection), `undefined` for a message that is not the service's to answer
 * (replies, events, other topics) and for a request whose reply the gate drops (it still runs).
 */
export const serviceReply = (engine: Engine, gate: DeviceGate, topic: string, payload: Uint8Array, at: Date): ServiceMessage | undefined => {
  const parsed = parseJobsTopic(topic);
  // `$aws/things/{bad name}/jobs/...`: a thing name that is no valid segment (too long, bad characters).
  if (parsed === undefined && jobsNamespace.test(topic)) return { topic: `${topic}/rejected`, body: invalidTopic(topic, payload, at).body };
  // Replies and events belong to the service; a device publishing them is let through unanswered.
  if (parsed === undefined || parsed.kind === 'reply' || parsed.kind === 'event') return undefined;
  if (parsed.kind !== 'request') {
    const reply = invalidTopic(topic, payload, at);
    return { topic: `${topic}/${reply.outcome}`, body: reply.body };
  }
  const verdict = gate(parsed);
  // A lost reply: the request ran, nothing is published.
  if (verdict.action === 'drop') {
    answer(engine, parsed, payload, at);
    return undefined;
  }
  const reply = verdict.action === 'throttle' ? throttled(verdict.message, payload, at) : answer(engine, parsed, payload, at);
  return { topic: replyTopic(parsed.operation, parsed.thingName, reply.outcome, parsed.jobId), body: reply.body };
};

/** A notification as the service publishes it; `undefined` for a thing name that is no valid topic segment. */
export const notificationMessage = (notification: Notification): ServiceMessage | undefined =>
  // Thing names reach the engine only through validated topics and ARNs; checked again all the same.
  isThingName(notification.thingName) ? { topic: eventTopic(notification.event, notification.thingName), body: notificationPayload(notification) } : undefined;
