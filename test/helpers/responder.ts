import mqtt from 'mqtt';
import { parseJobsTopic, replyTopic, eventTopic } from '../../src/transport/topics';
import type { ThingName } from '../../src/codecs/primitives';

/**
 * A small Jobs responder for integration tests and benchmarks, on a real broker: enough of the service to
 * answer the four operations and publish both notifications. The emulator issue replaces it.
 */

interface Execution {
  jobId: string;
  status: string;
  versionNumber: number;
  executionNumber: number;
  queuedAt: number;
  lastUpdatedAt: number;
  startedAt?: number;
  statusDetails?: Record<string, string>;
  jobDocument: unknown;
}

export interface Responder {
  readonly addJob: (thingName: string, jobId: string, jobDocument: unknown) => void;
  /** Operations to leave unanswered (to test deadlines). */
  readonly silence: Set<string>;
  /** Publishes a raw payload on a topic, as the service would. */
  readonly publishRaw: (topic: string, payload: string) => Promise<void>;
  readonly close: () => Promise<void>;
}

const now = (): number => Math.floor(Date.now() / 1000);
const pendingOf = (list: Execution[]): Execution[] =>
  [...list.filter((e) => e.status === 'IN_PROGRESS'), ...list.filter((e) => e.status === 'QUEUED')];
const summary = ({ jobId, queuedAt, lastUpdatedAt, startedAt, versionNumber, executionNumber }: Execution) => ({
  jobId, queuedAt, lastUpdatedAt, versionNumber, executionNumber, ...(startedAt === undefined ? {} : { startedAt }),
});

export const startResponder = async (url: string): Promise<Responder> => {
  const client = await mqtt.connectAsync(url, { clientId: 'responder', reconnectPeriod: 0 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const things = new Map<string, Execution[]>();
  const silence = new Set<string>();
  const publish = (topic: string, body: object): void => {
    client.publish(topic, JSON.stringify({ ...body, timestamp: now() }), { qos: 1 });
  };
  const notify = (thing: ThingName): void => {
    const pending = pendingOf(things.get(thing) ?? []);
    const jobs: Record<string, unknown[]> = {};
    const inProgress = pending.filter((e) => e.status === 'IN_PROGRESS').map(summary);
    const queued = pending.filter((e) => e.status === 'QUEUED').map(summary);
    if (inProgress.length > 0) jobs.IN_PROGRESS = inProgress;
    if (queued.length > 0) jobs.QUEUED = queued;
    publish(eventTopic('jobExecutionsChanged', thing), { jobs });
    publish(eventTopic('nextJobExecutionChanged', thing), pending[0] === undefined ? {} : { execution: pending[0] });
  };

  client.on('message', (topic, buffer) => {
    const parsed = parseJobsTopic(topic);
    if (parsed?.kind !== 'request' || silence.has(parsed.operation)) return;
    const { thingName, operation } = parsed;
    const jobId = 'jobId' in parsed ? parsed.jobId : undefined;
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(buffer.toString()) as Record<string, unknown>;
    } catch {
      publish(replyTopic(operation, thingName, 'rejected', jobId), { code: 'InvalidJson', message: 'bad json' });
      return;
    }
    const token = typeof request.clientToken === 'string' ? { clientToken: request.clientToken } : {};
    const accept = (body: object): void => publish(replyTopic(operation, thingName, 'accepted', jobId), { ...body, ...token });
    const reject = (code: string, extra: object = {}): void =>
      publish(replyTopic(operation, thingName, 'rejected', jobId), { code, message: code, ...token, ...extra });
    const list = things.get(thingName) ?? [];
    const pending = pendingOf(list);
    if (operation === 'getPendingJobExecutions') {
      accept({
        inProgressJobs: pending.filter((e) => e.status === 'IN_PROGRESS').map(summary),
        queuedJobs: pending.filter((e) => e.status === 'QUEUED').map(summary),
      });
      return;
    }
    if (operation === 'startNextPendingJobExecution') {
      const next = pending[0];
      if (next?.status === 'QUEUED') {
        Object.assign(next, { status: 'IN_PROGRESS', startedAt: now(), lastUpdatedAt: now(), versionNumber: next.versionNumber + 1 });
        if (request.statusDetails !== undefined) next.statusDetails = request.statusDetails as Record<string, string>;
      }
      accept(next === undefined ? {} : { execution: next });
      return;
    }
    const execution = jobId === '$next' ? pending[0] : list.find((e) => e.jobId === jobId);
    if (operation === 'describeJobExecution') {
      if (execution === undefined && jobId !== '$next') reject('ResourceNotFound');
      else accept(execution === undefined ? {} : { execution });
      return;
    }
    if (execution === undefined) { reject('ResourceNotFound'); return; }
    const state = () => ({ status: execution.status, versionNumber: execution.versionNumber, ...(execution.statusDetails ? { statusDetails: execution.statusDetails } : {}) });
    if (request.expectedVersion !== undefined && Number(request.expectedVersion) !== execution.versionNumber) {
      reject('VersionMismatch', { executionState: state() }); return;
    }
    if (!['QUEUED', 'IN_PROGRESS'].includes(execution.status)) { reject('InvalidStateTransition', { executionState: state() }); return; }
    const wasPending = execution.status;
    Object.assign(execution, { status: request.status, lastUpdatedAt: now(), versionNumber: execution.versionNumber + 1 });
    if (request.statusDetails !== undefined) execution.statusDetails = request.statusDetails as Record<string, string>;
    accept(request.includeJobExecutionState === true ? { executionState: state() } : {});
    if (wasPending !== execution.status && execution.status !== 'IN_PROGRESS') notify(thingName);
  });
  await client.subscribeAsync('$aws/things/+/jobs/#', { qos: 1 });

  return {
    silence,
    addJob: (thingName, jobId, jobDocument) => {
      const list = things.get(thingName) ?? [];
      list.push({ jobId, status: 'QUEUED', versionNumber: 1, executionNumber: 1, queuedAt: now(), lastUpdatedAt: now(), jobDocument });
      things.set(thingName, list);
      notify(thingName as ThingName);
    },
    publishRaw: async (topic, payload) => {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
};
