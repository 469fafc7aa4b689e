import type { JobExecutionStatus } from '../codecs/job-execution';
import type { JsonObject } from '../transport/transport';
import { parseJobsTopic, replyTopic } from '../transport/topics';

/**
 * Wire payload builders: JSON objects shaped as the service sends them (epoch seconds, embedded job
 * documents), with realistic defaults you override per test.
 */

/** A fixed epoch-seconds timestamp (2024-07-02T17:23:14Z), as in AWS's live captures. */
export const wireTimestamp = 1_719_940_994;

/** A wire JobExecution (MQTT form). */
export const wireJobExecution = (overrides: Readonly<Record<string, unknown>> & { readonly status?: JobExecutionStatus } = {}): JsonObject => ({
  jobId: 'job-1',
  status: 'QUEUED',
  queuedAt: wireTimestamp,
  lastUpdatedAt: wireTimestamp,
  versionNumber: 1,
  executionNumber: 1,
  jobDocument: { operation: 'test' },
  ...overrides,
});

/** A wire JobExecutionSummary. */
export const wireSummary = (overrides: Readonly<Record<string, unknown>> = {}): JsonObject => ({
  jobId: 'job-1',
  queuedAt: wireTimestamp,
  lastUpdatedAt: wireTimestamp,
  versionNumber: 1,
  executionNumber: 1,
  ...overrides,
});

/** An accepted reply body: `body` plus `timestamp` and the echoed `clientToken`. */
export const acceptedPayload = (clientToken: string | undefined, body: JsonObject = {}): JsonObject => ({
  ...body,
  timestamp: wireTimestamp,
  ...(clientToken === undefined ? {} : { clientToken }),
});

/** A rejected reply body (ErrorResponse). */
export const rejectedPayload = (
  clientToken: string | undefined,
  code: string,
  extras: Readonly<Record<string, unknown>> = {},
): JsonObject => ({
  code,
  message: `${code} (test)`,
  timestamp: wireTimestamp,
  ...(clientToken === undefined ? {} : { clientToken }),
  ...extras,
});

/** A `notify` payload. */
export const notifyPayload = (jobs: { IN_PROGRESS?: JsonObject[]; QUEUED?: JsonObject[] } = {}): JsonObject => ({
  timestamp: wireTimestamp,
  jobs,
});

/** A `notify-next` payload; without an execution, the queue-empty form. */
export const notifyNextPayload = (execution?: JsonObject): JsonObject => ({
  timestamp: wireTimestamp,
  ...(execution === undefined ? {} : { execution }),
});

/** The clientToken of a request payload, if it has one. */
export const clientTokenOf = (payload: string): string | undefined => {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value === 'object' && value !== null && 'clientToken' in value && typeof value.clientToken === 'string') return value.clientToken;
  } catch {
    // not JSON: no token
  }
  return undefined;
};

/**
 * The reply to a request published on `topic`: on its `accepted` (or `rejected`) topic, echoing the request's
 * clientToken. Returns an empty list for topics that are not Jobs requests. Handy as a FakeMqttPort responder.
 */
export const replyFor = (
  topic: string,
  payload: string,
  body: JsonObject,
  outcome: 'accepted' | 'rejected' = 'accepted',
): { topic: string; payload: string }[] => {
  const parsed = parseJobsTopic(topic);
  if (parsed?.kind !== 'request') return [];
  const clientToken = clientTokenOf(payload);
  const reply = outcome === 'accepted' ? acceptedPayload(clientToken, body) : { ...body, timestamp: wireTimestamp, ...(clientToken === undefined ? {} : { clientToken }) };
  return [{ topic: replyTopic(parsed.operation, parsed.thingName, outcome, parsed.jobId), payload: JSON.stringify(reply) }];
};
