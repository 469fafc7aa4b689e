import { isJobId, isThingName, type JobIdOrNext, type ThingName } from '../../src/codecs/primitives';
import type { EventName, OperationName } from '../../src/errors';
import {
  eventTopic,
  jobsPrefix,
  matchesFilter,
  parseJobsTopic,
  replyFilter,
  replyOutcome,
  replyTopic,
  requestTopic,
  type JobsTopic,
  type Outcome,
} from '../../src/transport/topics';

// Topic table: ../shared/spec/jobs-api.md §2.1. P = $aws/things/{thingName}/jobs.

const thingName = (name: string): ThingName => {
  if (!isThingName(name)) throw new Error(`bad thing fixture ${name}`);
  return name;
};
const jobId = (id: string): JobIdOrNext => {
  if (id === '$next') return id;
  if (!isJobId(id)) throw new Error(`bad job fixture ${id}`);
  return id;
};

const T = thingName('thing-A');
const P = '$aws/things/thing-A/jobs';
const operations: readonly OperationName[] = [
  'getPendingJobExecutions',
  'startNextPendingJobExecution',
  'describeJobExecution',
  'updateJobExecution',
];
const outcomes: readonly Outcome[] = ['accepted', 'rejected'];
// Job ids that collide with the fixed words of the topic tree.
const trickyJobIds = ['get', 'start-next', 'notify', 'notify-next', 'update', 'accepted', 'rejected', 'jobs'];

describe('topic builders', () => {
  it('requestTopic - builds the four request topics', () => {
    expect(requestTopic('getPendingJobExecutions', T)).toBe(`${P}/get`);
    expect(requestTopic('startNextPendingJobExecution', T)).toBe(`${P}/start-next`);
    expect(requestTopic('describeJobExecution', T, jobId('job-1'))).toBe(`${P}/job-1/get`);
    expect(requestTopic('describeJobExecution', T, jobId('$next'))).toBe(`${P}/$next/get`);
    expect(requestTopic('updateJobExecution', T, jobId('job-1'))).toBe(`${P}/job-1/update`);
  });

  it('requestTopic - thing-scoped operations ignore a job id', () => {
    expect(requestTopic('getPendingJobExecutions', T, jobId('job-1'))).toBe(`${P}/get`);
    expect(requestTopic('startNextPendingJobExecution', T, jobId('job-1'))).toBe(`${P}/start-next`);
  });

  it('requestTopic - puts the thing name in the third level', () => {
    expect(requestTopic('getPendingJobExecutions', thingName('other:thing_1'))).toBe('$aws/things/other:thing_1/jobs/get');
    expect(jobsPrefix(thingName('thing-B'))).toBe('$aws/things/thing-B/jobs');
  });

  it('replyTopic - appends accepted or rejected to the request topic', () => {
    expect(replyTopic('getPendingJobExecutions', T, 'accepted')).toBe(`${P}/get/accepted`);
    expect(replyTopic('getPendingJobExecutions', T, 'rejected')).toBe(`${P}/get/rejected`);
    expect(replyTopic('startNextPendingJobExecution', T, 'accepted')).toBe(`${P}/start-next/accepted`);
    expect(replyTopic('startNextPendingJobExecution', T, 'rejected')).toBe(`${P}/start-next/rejected`);
    expect(replyTopic('describeJobExecution', T, 'accepted', jobId('job-1'))).toBe(`${P}/job-1/get/accepted`);
    expect(replyTopic('describeJobExecution', T, 'rejected', jobId('$next'))).toBe(`${P}/$next/get/rejected`);
    expect(replyTopic('updateJobExecution', T, 'accepted', jobId('job-1'))).toBe(`${P}/job-1/update/accepted`);
    expect(replyTopic('updateJobExecution', T, 'rejected', jobId('get'))).toBe(`${P}/get/update/rejected`);
  });

  it('replyFilter - one wildcard filter per operation', () => {
    expect(replyFilter('getPendingJobExecutions', T)).toBe(`${P}/get/+`);
    expect(replyFilter('startNextPendingJobExecution', T)).toBe(`${P}/start-next/+`);
    expect(replyFilter('describeJobExecution', T)).toBe(`${P}/+/get/+`);
    expect(replyFilter('updateJobExecution', T)).toBe(`${P}/+/update/+`);
  });

  it('replyFilter - matches every reply of its operation, whatever the job id and outcome', () => {
    for (const operation of operations) {
      for (const outcome of outcomes) {
        for (const id of ['job-1', '$next', ...trickyJobIds]) {
          const topic = replyTopic(operation, T, outcome, jobId(id));
          expect([operation, topic, matchesFilter(replyFilter(operation, T), topic)]).toEqual([operation, topic, true]);
        }
      }
    }
  });

  it('replyFilter - matches no reply of another operation, even with tricky job ids', () => {
    for (const filterOp of operations) {
      for (const replyOp of operations.filter((op) => op !== filterOp)) {
        for (const outcome of outcomes) {
          for (const id of ['job-1', '$next', ...trickyJobIds]) {
            const topic = replyTopic(replyOp, T, outcome, jobId(id));
            expect([filterOp, topic, matchesFilter(replyFilter(filterOp, T), topic)]).toEqual([filterOp, topic, false]);
          }
        }
      }
    }
  });

  it('replyFilter - matches no reply for another thing', () => {
    const other = thingName('thing-B');
    for (const operation of operations) {
      expect(matchesFilter(replyFilter(operation, T), replyTopic(operation, other, 'accepted', jobId('job-1')))).toBe(false);
    }
  });

  it('replyFilter - P/get/+ also matches the Describe request of a job named get, which parseJobsTopic tells apart', () => {
    const topic = requestTopic('describeJobExecution', T, jobId('get'));
    expect(matchesFilter(replyFilter('getPendingJobExecutions', T), topic)).toBe(true);
    expect(parseJobsTopic(topic)).toEqual({ kind: 'request', thingName: 'thing-A', operation: 'describeJobExecution', jobId: 'get' });
  });

  it('eventTopic - notify and notify-next', () => {
    expect(eventTopic('jobExecutionsChanged', T)).toBe(`${P}/notify`);
    expect(eventTopic('nextJobExecutionChanged', T)).toBe(`${P}/notify-next`);
  });
});

describe('parseJobsTopic', () => {
  const request = (operation: OperationName, id?: string): JobsTopic =>
    id === undefined ? { kind: 'request', thingName: T, operation } : { kind: 'request', thingName: T, operation, jobId: jobId(id) };
  const reply = (operation: OperationName, outcome: Outcome, id?: string): JobsTopic =>
    id === undefined
      ? { kind: 'reply', thingName: T, operation, outcome }
      : { kind: 'reply', thingName: T, operation, outcome, jobId: jobId(id) };
  const event = (name: EventName): JobsTopic => ({ kind: 'event', thingName: T, event: name });
  const unknown: JobsTopic = { kind: 'unknown', thingName: T };

  it.each<[string, JobsTopic]>([
    [`${P}/get`, request('getPendingJobExecutions')],
    [`${P}/get/accepted`, reply('getPendingJobExecutions', 'accepted')],
    [`${P}/get/rejected`, reply('getPendingJobExecutions', 'rejected')],
    [`${P}/start-next`, request('startNextPendingJobExecution')],
    [`${P}/start-next/accepted`, reply('startNextPendingJobExecution', 'accepted')],
    [`${P}/start-next/rejected`, reply('startNextPendingJobExecution', 'rejected')],
    [`${P}/job-1/get`, request('describeJobExecution', 'job-1')],
    [`${P}/job-1/get/accepted`, reply('describeJobExecution', 'accepted', 'job-1')],
    [`${P}/job-1/get/rejected`, reply('describeJobExecution', 'rejected', 'job-1')],
    [`${P}/$next/get`, request('describeJobExecution', '$next')],
    [`${P}/$next/get/accepted`, reply('describeJobExecution', 'accepted', '$next')],
    [`${P}/$next/get/rejected`, reply('describeJobExecution', 'rejected', '$next')],
    [`${P}/job-1/update`, request('updateJobExecution', 'job-1')],
    [`${P}/job-1/update/accepted`, reply('updateJobExecution', 'accepted', 'job-1')],
    [`${P}/job-1/update/rejected`, reply('updateJobExecution', 'rejected', 'job-1')],
    [`${P}/notify`, event('jobExecutionsChanged')],
    [`${P}/notify-next`, event('nextJobExecutionChanged')],
  ])('parseJobsTopic - reads every topic of the Jobs API: %s', (topic, expected) => {
    expect(parseJobsTopic(topic)).toEqual(expected);
  });

  it.each<[string, JobsTopic]>([
    [`${P}/get/get`, request('describeJobExecution', 'get')],
    [`${P}/get/get/accepted`, reply('describeJobExecution', 'accepted', 'get')],
    [`${P}/get/update`, request('updateJobExecution', 'get')],
    [`${P}/get/update/rejected`, reply('updateJobExecution', 'rejected', 'get')],
    [`${P}/start-next/get`, request('describeJobExecution', 'start-next')],
    [`${P}/start-next/update/accepted`, reply('updateJobExecution', 'accepted', 'start-next')],
    [`${P}/notify/get`, request('describeJobExecution', 'notify')],
    [`${P}/notify/update/accepted`, reply('updateJobExecution', 'accepted', 'notify')],
    [`${P}/notify-next/get/rejected`, reply('describeJobExecution', 'rejected', 'notify-next')],
    [`${P}/update/update`, request('updateJobExecution', 'update')],
    [`${P}/update/get/accepted`, reply('describeJobExecution', 'accepted', 'update')],
    [`${P}/accepted/get`, request('describeJobExecution', 'accepted')],
    [`${P}/rejected/update/rejected`, reply('updateJobExecution', 'rejected', 'rejected')],
  ])('parseJobsTopic - a job id equal to a fixed word is still a job id: %s', (topic, expected) => {
    expect(parseJobsTopic(topic)).toEqual(expected);
  });

  it('parseJobsTopic - $next is a job id for Describe only, not for Update', () => {
    expect(parseJobsTopic(`${P}/$next/get`)).toEqual(request('describeJobExecution', '$next'));
    expect(parseJobsTopic(`${P}/$next/update`)).toEqual(unknown);
    expect(parseJobsTopic(`${P}/$next/update/accepted`)).toEqual(unknown);
    expect(parseJobsTopic(`${P}/$next/update/rejected`)).toEqual(unknown);
  });

  it('parseJobsTopic - reports the thing name of the topic, not a fixed one', () => {
    expect(parseJobsTopic('$aws/things/thing-B/jobs/get/accepted')).toEqual({
      kind: 'reply',
      thingName: 'thing-B',
      operation: 'getPendingJobExecutions',
      outcome: 'accepted',
    });
    expect(parseJobsTopic('$aws/things/a:b_c-1/jobs/notify')).toEqual({ kind: 'event', thingName: 'a:b_c-1', event: 'jobExecutionsChanged' });
    const longest = 'x'.repeat(128);
    expect(parseJobsTopic(`$aws/things/${longest}/jobs/start-next`)).toEqual({
      kind: 'request',
      thingName: longest,
      operation: 'startNextPendingJobExecution',
    });
  });

  it.each([
    ['empty', ''],
    ['a space', 'thing A'],
    ['a dot', 'thing.A'],
    ['a + wildcard', '+'],
    ['a # wildcard', '#'],
    ['129 characters', 'x'.repeat(129)],
    ['a non-ASCII letter', 'thïng'],
  ])('parseJobsTopic - an invalid thing name (%s) gives undefined', (_what, name) => {
    expect(parseJobsTopic(`$aws/things/${name}/jobs/get`)).toBeUndefined();
    expect(parseJobsTopic(`$aws/things/${name}/jobs/job-1/update/accepted`)).toBeUndefined();
  });

  it.each([
    P,
    `${P}/`,
    `${P}/job-1`,
    `${P}/get/accepted/extra`,
    `${P}/get/pending`,
    `${P}/start-next/accepted/extra`,
    `${P}/start-next/foo`,
    `${P}/job-1/get/accepted/extra`,
    `${P}/job-1/update/accepted/`,
    `${P}/job-1/get/pending`,
    `${P}/job-1/get/get`,
    `${P}/job-1/delete`,
    `${P}/get/get/get`,
    `${P}/notify/extra`,
    `${P}/notify/accepted`,
    `${P}/notify-next/accepted`,
    `${P}//get`,
    `${P}/job.1/get`,
    `${P}/${'j'.repeat(65)}/get`,
    `${P}/$other/get`,
    `${P}/job-1/namespace-aws-gg-deployment/get`,
    `${P}/notify-namespace-aws-gg-deployment`,
  ])('parseJobsTopic - a topic under P that is no API is unknown: %s', (topic) => {
    expect(parseJobsTopic(topic)).toEqual(unknown);
  });

  it('parseJobsTopic - a 64-character job id is valid, 65 is not', () => {
    const id = 'j'.repeat(64);
    expect(parseJobsTopic(`${P}/${id}/get`)).toEqual(request('describeJobExecution', id));
    expect(parseJobsTopic(`${P}/${id}j/get`)).toEqual(unknown);
  });

  it.each([
    '',
    'get',
    'things/thing-A/jobs/get',
    '/$aws/things/thing-A/jobs/get',
    '$AWS/things/thing-A/jobs/get',
    '$aws/thing/thing-A/jobs/get',
    '$aws/things/thing-A',
    '$aws/things/thing-A/shadow/get/accepted',
    '$aws/things/thing-A/jobsx/get',
    '$aws/things/thing-A/Jobs/get',
    '$aws/events/job/job-1/completed',
    '$aws/things/+/jobs/get',
  ])('parseJobsTopic - a topic outside $aws/things/{thing}/jobs gives undefined: %s', (topic) => {
    expect(parseJobsTopic(topic)).toBeUndefined();
  });

  it('parseJobsTopic - inverts the builders for every operation, outcome and job id', () => {
    for (const operation of operations) {
      const scoped = operation === 'describeJobExecution' || operation === 'updateJobExecution';
      const ids = scoped ? ['job-1', ...trickyJobIds, ...(operation === 'describeJobExecution' ? ['$next'] : [])] : [undefined];
      for (const id of ids) {
        const j = id === undefined ? undefined : jobId(id);
        expect(parseJobsTopic(requestTopic(operation, T, j))).toEqual(request(operation, id));
        for (const outcome of outcomes) expect(parseJobsTopic(replyTopic(operation, T, outcome, j))).toEqual(reply(operation, outcome, id));
      }
    }
    expect(parseJobsTopic(eventTopic('jobExecutionsChanged', T))).toEqual(event('jobExecutionsChanged'));
    expect(parseJobsTopic(eventTopic('nextJobExecutionChanged', T))).toEqual(event('nextJobExecutionChanged'));
  });
});

describe('replyOutcome', () => {
  // Every reply, request and event topic of two things, plus malformed ones near the reply shapes.
  const corpus = (): string[] => {
    const topics: string[] = [];
    for (const thing of [T, thingName('thing-B')]) {
      for (const operation of operations) {
        for (const id of ['job-1', '$next', ...trickyJobIds]) {
          topics.push(requestTopic(operation, thing, jobId(id)));
          for (const outcome of outcomes) topics.push(replyTopic(operation, thing, outcome, jobId(id)));
        }
      }
      topics.push(eventTopic('jobExecutionsChanged', thing), eventTopic('nextJobExecutionChanged', thing));
    }
    return topics.concat([
      P,
      `${P}/`,
      `${P}/accepted`,
      `${P}//get/accepted`,
      `${P}/a/b/get/accepted`,
      `${P}/get/accepted/x`,
      `${P}/job-1/get/Accepted`,
      `${P}/job 1/get/accepted`,
      `${P}/get/get/accepted`,
      `${P}/$next/update/accepted`,
      `$aws/things/thing-A/jobsx/get/accepted`,
      `$aws/things/thing-A/job/get/accepted`,
      `$aws/things//jobs/get/accepted`,
      `x${P}/get/accepted`,
      '',
    ]);
  };

  it('replyOutcome - agrees with parseJobsTopic on every topic, for every operation', () => {
    for (const operation of operations) {
      const outcomeOf = replyOutcome(operation, T);
      for (const topic of corpus()) {
        const parsed = parseJobsTopic(topic);
        const expected = parsed?.kind === 'reply' && parsed.thingName === T && parsed.operation === operation ? parsed.outcome : undefined;
        expect([operation, topic, outcomeOf(topic)]).toEqual([operation, topic, expected]);
      }
    }
  });

  it('replyOutcome - reads the outcome of its own replies only', () => {
    expect(replyOutcome('describeJobExecution', T)(`${P}/job-1/get/rejected`)).toBe('rejected');
    expect(replyOutcome('getPendingJobExecutions', T)(`${P}/get/accepted`)).toBe('accepted');
    expect(replyOutcome('getPendingJobExecutions', T)(`${P}/job-1/get/accepted`)).toBeUndefined();
    expect(replyOutcome('updateJobExecution', T)(`${P}/$next/update/accepted`)).toBeUndefined();
  });
});

describe('matchesFilter', () => {
  it.each<[string, string, boolean]>([
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['a/b', 'a', false],
    ['a/b', 'a/B', false],
    ['a/b/', 'a/b', false],
    ['a/b', 'a/b/', false],
    ['/a', '/a', true],
    ['/a', 'a', false],
    [`${P}/notify`, `${P}/notify`, true],
    [`${P}/notify`, `${P}/notify-next`, false],
  ])('matchesFilter - an exact filter matches only the same topic: %s vs %s', (filter, topic, expected) => {
    expect(matchesFilter(filter, topic)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+/c', 'a/b/c/d', false],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+/b', '/b', true],
    ['+/+', '/', true],
    ['+/+', 'a', false],
    [`${P}/+/get/+`, `${P}/job-1/get/accepted`, true],
    [`${P}/+/get/+`, `${P}/job-1/update/accepted`, false],
  ])('matchesFilter - + matches exactly one level, maybe empty: %s vs %s', (filter, topic, expected) => {
    expect(matchesFilter(filter, topic)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['#', 'a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'b', false],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a', false],
    ['a/+/#', 'a/b', true],
    ['a/+/#', 'a/b/c/d', true],
    ['a/+/#', 'a', false],
    [`${P}/#`, P, true],
    [`${P}/#`, `${P}/job-1/update/accepted`, true],
  ])('matchesFilter - # matches the parent level and everything below: %s vs %s', (filter, topic, expected) => {
    expect(matchesFilter(filter, topic)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['#', '$aws/things/thing-A/jobs/notify', false],
    ['+/things/thing-A/jobs/notify', '$aws/things/thing-A/jobs/notify', false],
    ['+/#', '$SYS/broker/uptime', false],
    ['$aws/#', '$aws/things/thing-A/jobs/notify', true],
    ['$aws/+/thing-A/jobs/notify', '$aws/things/thing-A/jobs/notify', true],
  ])('matchesFilter - a filter starting with a wildcard does not match a topic starting with $ (MQTT-4.7.2-1): %s vs %s', (filter, topic, expected) => {
    expect(matchesFilter(filter, topic)).toBe(expected);
  });
});
