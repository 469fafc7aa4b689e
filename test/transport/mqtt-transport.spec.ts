import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { createJobsClient, mqttTransport } from '../../src';
import { TransportError } from '../../src/errors';
import { clientTokenOf, createFakeMqttPort, notifyPayload, replyFor, wireJobExecution, type FakeMqttPort } from '../../src/testing';
import { runMarbles } from '../helpers/marbles';

const P = '$aws/things/thing-A/jobs';

const client = (port: FakeMqttPort, lingerMs = 1000, timeoutMs = 5000) =>
  createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs }), timeoutMs });

const answerDescribe = (topic: string, payload: string) => replyFor(topic, payload, { execution: wireJobExecution() });

describe('mqttTransport', () => {
  it('mqtt transport - publishes a request only after its SUBACK', () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const jobs = client(port);
    const sub = jobs.describeJobExecution({ jobId: 'job-1' }).subscribe();
    expect(port.actions).toEqual([{ kind: 'subscribe', filter: `${P}/+/get/+` }]);
    port.grant();
    expect(port.actions.map((a) => a.kind)).toEqual(['subscribe', 'publish']);
    expect(port.published()[0]?.topic).toBe(`${P}/job-1/get`);
    sub.unsubscribe();
  });

  it('mqtt transport - one subscription per operation however many job ids, released after the linger', () => {
    runMarbles(({ schedule }) => {
      const port = createFakeMqttPort({ responder: answerDescribe });
      const jobs = client(port, 1000);
      schedule(() => {
        for (const jobId of ['job-1', 'job-2', 'job-3']) jobs.describeJobExecution({ jobId }).subscribe();
        jobs.describeJobExecution({ jobId: '$next' }).subscribe();
      }, 0);
      schedule(() => {
        expect(port.actions.filter((a) => a.kind === 'subscribe')).toEqual([{ kind: 'subscribe', filter: `${P}/+/get/+` }]);
        expect(port.published()).toHaveLength(4);
        expect(port.activeFilters()).toEqual([`${P}/+/get/+`]);
      }, 999);
      schedule(() => {
        expect(port.activeFilters()).toEqual([]);
        expect(port.actions.at(-1)).toEqual({ kind: 'unsubscribe', filter: `${P}/+/get/+` });
      }, 1001);
    });
  });

  it('mqtt transport - requests one after another keep one subscription, released a linger after the last', () => {
    runMarbles(({ schedule }) => {
      const port = createFakeMqttPort({ responder: answerDescribe });
      const jobs = client(port, 1000);
      for (const frame of [0, 600, 1200, 1900]) {
        schedule(() => {
          jobs.describeJobExecution({ jobId: 'job-1' }).subscribe();
        }, frame);
      }
      schedule(() => {
        expect(port.published()).toHaveLength(4);
        expect(port.actions.filter((a) => a.kind === 'subscribe')).toHaveLength(1);
        expect(port.activeFilters()).toEqual([`${P}/+/get/+`]);
      }, 2899);
      schedule(() => {
        expect(port.activeFilters()).toEqual([]);
        expect(port.actions.filter((a) => a.kind !== 'publish')).toEqual([
          { kind: 'subscribe', filter: `${P}/+/get/+` },
          { kind: 'unsubscribe', filter: `${P}/+/get/+` },
        ]);
      }, 2901);
    });
  });

  it('mqtt transport - when the client ends, an idle subscription is released at once, not after its linger', () => {
    runMarbles(({ schedule }) => {
      const port = createFakeMqttPort({ responder: answerDescribe });
      const jobs = client(port, 60_000);
      schedule(() => {
        jobs.describeJobExecution({ jobId: 'job-1' }).subscribe();
      }, 0);
      schedule(() => {
        expect(port.activeFilters()).toEqual([`${P}/+/get/+`]);
        port.setConnection('end');
        expect(port.activeFilters()).toEqual([]);
      }, 10);
    });
  });

  it('mqtt transport - the wire payload carries the clientToken and no jobId or thingName', async () => {
    const port = createFakeMqttPort({ responder: answerDescribe });
    await firstValueFrom(client(port).describeJobExecution({ jobId: 'job-1', executionNumber: 0, includeJobDocument: false }));
    const sent: unknown = JSON.parse(port.published()[0]?.payload ?? '');
    expect(sent).toEqual({ executionNumber: 0, includeJobDocument: false, clientToken: clientTokenOf(port.published()[0]?.payload ?? '') });
  });

  it('mqtt transport - a reply without JSON fails only the request it names', async () => {
    let calls = 0;
    const port = createFakeMqttPort({
      responder: (topic, payload) => {
        calls += 1;
        if (calls === 1) {
          const token = clientTokenOf(payload) ?? '';
          return [{ topic: `${P}/job-1/get/accepted`, payload: `{"clientToken":"${token}", oops` }];
        }
        return answerDescribe(topic, payload);
      },
    });
    const jobs = client(port);
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).rejects.toMatchObject({ name: 'DecodeError' });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-2' }))).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
  });

  it('mqtt transport - a refused SUBACK fails waiting requests with TransportError; the next request subscribes again', async () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const jobs = client(port);
    const first = firstValueFrom(jobs.getPendingJobExecutions());
    port.refuse(`${P}/get/+`);
    await expect(first).rejects.toMatchObject({ name: 'TransportError', reasonCode: 128 });
    const second = firstValueFrom(jobs.getPendingJobExecutions());
    expect(port.actions.filter((a) => a.kind === 'subscribe')).toHaveLength(2);
    port.grant();
    port.deliver(`${P}/get/accepted`, { clientToken: clientTokenOf(port.published()[0]?.payload ?? ''), timestamp: 1, inProgressJobs: [], queuedJobs: [] });
    await expect(second).resolves.toMatchObject({ inProgressJobs: [], queuedJobs: [] });
  });

  it('mqtt transport - a failed publish is a TransportError', async () => {
    const port = createFakeMqttPort();
    port.failNextPublish();
    await expect(firstValueFrom(client(port).getPendingJobExecutions())).rejects.toBeInstanceOf(TransportError);
  });

  it('mqtt transport - after a reconnect a read is sent again with the same token', async () => {
    const port = createFakeMqttPort();
    const result = firstValueFrom(client(port).describeJobExecution({ jobId: 'job-1' }));
    port.setConnection('down');
    port.setConnection('up');
    const [first, second] = port.published();
    expect(second).toEqual(first);
    port.deliver(`${P}/job-1/get/accepted`, { clientToken: clientTokenOf(first?.payload ?? ''), timestamp: 1 });
    await expect(result).resolves.toEqual({ clientToken: clientTokenOf(first?.payload ?? ''), timestamp: new Date(1000) });
  });

  it('mqtt transport - an update with expectedVersion is re-sent; one without fails as indeterminate', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port);
    const versioned = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2 }));
    const unversioned = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-2', status: 'SUCCEEDED' }));
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    port.setConnection('down');
    await expect(unversioned).rejects.toMatchObject({ name: 'TransportError', operation: 'updateJobExecution' });
    await expect(startNext).rejects.toMatchObject({ name: 'TransportError', operation: 'startNextPendingJobExecution' });
    port.setConnection('up');
    const updates = port.published().filter((p) => p.topic === `${P}/job-1/update`);
    expect(updates).toHaveLength(2);
    expect(updates[1]).toEqual(updates[0]);
    port.deliver(`${P}/job-1/update/accepted`, { clientToken: clientTokenOf(updates[0]?.payload ?? ''), timestamp: 1 });
    await expect(versioned).resolves.toMatchObject({ timestamp: new Date(1000) });
  });

  it('mqtt transport - when the client ends, requests in flight fail and subscriptions are released at once', async () => {
    const port = createFakeMqttPort();
    const pending = firstValueFrom(client(port, 60_000).getPendingJobExecutions());
    port.setConnection('end');
    await expect(pending).rejects.toMatchObject({ name: 'TransportError' });
    expect(port.activeFilters()).toEqual([]);
  });

  it('mqtt transport - N event subscribers share one subscription', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port, 0);
    const a = lastValueFrom(jobs.jobExecutionsChanged().pipe(take(2), toArray()));
    const b = firstValueFrom(jobs.jobExecutionsChanged());
    expect(port.actions).toEqual([{ kind: 'subscribe', filter: `${P}/notify` }]);
    port.deliver(`${P}/notify`, notifyPayload({ QUEUED: [{ jobId: 'job-1' }] }));
    port.deliver(`${P}/notify`, notifyPayload({}));
    expect((await a).map((e) => Object.keys(e.jobs))).toEqual([['QUEUED'], []]);
    expect((await b).jobs.QUEUED?.[0]?.jobId).toBe('job-1');
    expect(port.activeFilters()).toEqual([`${P}/notify`]); // lingers (0 ms here) before UNSUBSCRIBE
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(port.activeFilters()).toEqual([]);
  });
});

describe('mqttTransport with a port that ends its subscription', () => {
  it('mqtt transport - a subscription that ends before its SUBACK fails the request with TransportError', async () => {
    const { EMPTY, of } = await import('rxjs');
    const port: import('../../src').MqttPort = { subscribe: () => EMPTY, publish: () => of(undefined) };
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 1000 });
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).rejects.toMatchObject({ name: 'TransportError' });
  });
});

describe('mqttTransport with a port whose connection$ fails', () => {
  it('mqtt transport - a request in flight fails with the error of connection$', async () => {
    const { Subject } = await import('rxjs');
    const fake = createFakeMqttPort();
    const connection = new Subject<import('../../src').ConnectionState>();
    const port: import('../../src').MqttPort = { subscribe: (f) => fake.subscribe(f), publish: (t, p) => fake.publish(t, p), connection$: connection };
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const describe = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    connection.error(new TransportError('the port broke'));
    await expect(describe).rejects.toMatchObject({ name: 'TransportError', message: 'the port broke' });
  });
});

describe('mqttTransport and mqtt.js\'s own QoS 1 resend', () => {
  it('mqtt transport - a request whose PUBACK is still pending when the session drops counts as sent: a read goes again, StartNext fails as indeterminate', async () => {
    const { NEVER } = await import('rxjs');
    const fake = createFakeMqttPort();
    // PUBACK never comes: mqtt.js keeps such a PUBLISH and sends it again on reconnect, but on a new session
    // before it subscribes again, so its reply can be lost.
    const port: import('../../src').MqttPort = {
      subscribe: (filter) => fake.subscribe(filter),
      publish: (topic, payload) => {
        fake.publish(topic, payload).subscribe();
        return NEVER;
      },
      connection$: fake.connection$ ?? NEVER,
    };
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    const describe = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    fake.setConnection('down');
    await expect(startNext).rejects.toMatchObject({ name: 'TransportError', operation: 'startNextPendingJobExecution' });
    fake.setConnection('up');
    const reads = fake.published().filter((sent) => sent.topic === `${P}/job-1/get`);
    expect(reads).toHaveLength(2);
    expect(reads[1]).toEqual(reads[0]);
    fake.deliver(`${P}/job-1/get/accepted`, { clientToken: clientTokenOf(reads[0]?.payload ?? ''), timestamp: 1 });
    await expect(describe).resolves.toMatchObject({ timestamp: new Date(1000) });
  });
});

describe('mqttTransport with a port whose subscriptions lapse with the session', () => {
  it('mqtt transport - while the filter has lapsed nothing is published; at the new grant a lost read goes again and a new one goes first', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port, 0);
    const inFlight = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    port.lapse(); // as the mqtt.js port does: the filter lapses before connection$ says down
    port.setConnection('down');
    const offline = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-2' }));
    port.setConnection('up');
    // `up` is not enough: the broker may not hold the filter yet.
    expect(port.published()).toHaveLength(1);
    port.grant();
    const sent = port.published();
    expect(sent.map((p) => p.topic)).toEqual([`${P}/job-1/get`, `${P}/job-1/get`, `${P}/job-2/get`]);
    expect(sent[1]).toEqual(sent[0]);
    for (const request of sent.slice(1)) {
      const jobId = request.topic.split('/')[4] ?? '';
      port.deliver(`${P}/${jobId}/get/accepted`, { clientToken: clientTokenOf(request.payload), timestamp: 1 });
    }
    await expect(inFlight).resolves.toMatchObject({ timestamp: new Date(1000) });
    await expect(offline).resolves.toMatchObject({ timestamp: new Date(1000) });
  });

  it('mqtt transport - a lapse then a new grant (no connection$) fails an unversioned update in flight as indeterminate and re-sends a versioned one', async () => {
    const fake = createFakeMqttPort();
    const port: import('../../src').MqttPort = { subscribe: (filter) => fake.subscribe(filter), publish: (topic, payload) => fake.publish(topic, payload) };
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const unversioned = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' }));
    const versioned = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-2', status: 'SUCCEEDED', expectedVersion: 3 }));
    fake.lapse();
    // Whether the session lost the reply is known at the next grant: the fake's is a new session.
    fake.grant();
    await expect(unversioned).rejects.toMatchObject({ name: 'TransportError', operation: 'updateJobExecution' });
    const again = fake.published().filter((p) => p.topic === `${P}/job-2/update`);
    expect(again).toHaveLength(2);
    fake.deliver(`${P}/job-2/update/accepted`, { clientToken: clientTokenOf(again[1]?.payload ?? ''), timestamp: 1 });
    await expect(versioned).resolves.toMatchObject({ timestamp: new Date(1000) });
  });

  it('mqtt transport - after a resumed grant a write in flight is neither failed nor sent again: its reply still comes', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port, 0);
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    port.lapse();
    port.setConnection('down');
    port.setConnection('up');
    port.grant(undefined, { resumed: true });
    const sent = port.published();
    expect(sent).toHaveLength(1);
    port.deliver(`${P}/start-next/accepted`, { clientToken: clientTokenOf(sent[0]?.payload ?? ''), timestamp: 1 });
    await expect(startNext).resolves.toMatchObject({ timestamp: new Date(1000) });
  });

  it('mqtt transport - a re-subscribe refused after a lapse: a read fails with reason code 128, a write sent before as indeterminate', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port, 0);
    const describe = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    port.lapse();
    port.refuse(`${P}/+/get/+`);
    port.refuse(`${P}/start-next/+`);
    await expect(describe).rejects.toMatchObject({ name: 'TransportError', reasonCode: 128 });
    const error: unknown = await startNext.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ operation: 'startNextPendingJobExecution', message: expect.stringContaining('whether it was applied is unknown') });
    expect(error).not.toMatchObject({ reasonCode: 128 });
  });

  // Found in review of stop 9: a versioned update (resendable) got the plain refusal, which says nothing was
  // sent; it had been, and it cannot be sent again now, so whether it was applied is unknown.
  it('mqtt transport - a re-subscribe refused after a lapse: a versioned update sent before fails as indeterminate too', async () => {
    const port = createFakeMqttPort();
    const jobs = client(port, 0);
    const update = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2 }));
    await Promise.resolve();
    expect(port.published().map((p) => p.topic)).toEqual([`${P}/job-1/update`]);
    port.lapse();
    port.refuse(`${P}/+/update/+`);
    const error: unknown = await update.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ operation: 'updateJobExecution', message: expect.stringContaining('whether it was applied is unknown') });
  });
});

describe('mqttTransport on a client that connects again after its end', () => {
  it('mqtt transport - lingers again once the port is up after an end', async () => {
    const port = createFakeMqttPort({ responder: (topic, payload) => [{ topic: `${topic}/accepted`, payload: JSON.stringify({ clientToken: clientTokenOf(payload), timestamp: 1 }) }] });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 50 }), timeoutMs: 1000 });
    port.setConnection('end');
    port.setConnection('up');
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    expect(port.activeFilters()).toEqual([`${P}/+/get/+`]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(port.activeFilters()).toEqual([]);
  });
});
