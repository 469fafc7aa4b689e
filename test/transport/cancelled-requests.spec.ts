// Found by review: the grant and connection loops walked a copy of their users, so a request cancelled by
// another's callback in the same loop was still published.
import { firstValueFrom, race } from 'rxjs';
import { createJobsClient, mqttTransport } from '../../src';
import { createFakeMqttPort, replyFor } from '../../src/testing';

const P = '$aws/things/thing-A/jobs';

describe('re-entrancy in the shared filter grant loop', () => {
  it('a request unsubscribed by another request\'s error handler during the SUBACK is never published', () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const later: { second?: { unsubscribe: () => void } } = {};
    jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' }).subscribe({ error: () => later.second?.unsubscribe() });
    later.second = jobs.updateJobExecution({ jobId: 'job-2', status: 'SUCCEEDED' }).subscribe({ error: () => undefined });
    port.failNextPublish(); // job-1's publish fails; its error handler cancels job-2
    port.grant();
    expect(port.published().map((p) => p.topic)).toEqual([`${P}/job-1/update`]);
  });

  it('race(): the losing update is not published after race unsubscribed it', async () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const result = firstValueFrom(race(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' }), jobs.updateJobExecution({ jobId: 'job-2', status: 'SUCCEEDED' }))).catch((e: unknown) => e);
    port.failNextPublish();
    port.grant();
    await result;
    expect(port.published().map((p) => p.topic)).toEqual([`${P}/job-1/update`]);
  });
});

describe('re-entrancy in the connection watcher loop', () => {
  it('an update cancelled while the transport re-sends after `up` is not re-sent', async () => {
    let answering = false;
    const port = createFakeMqttPort({ responder: (topic, payload) => (answering ? replyFor(topic, payload, {}) : []) });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 5000 });
    const winner = firstValueFrom(
      race(
        jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 1 }),
        jobs.updateJobExecution({ jobId: 'job-2', status: 'IN_PROGRESS', expectedVersion: 1 }),
      ),
    );
    port.setConnection('down');
    answering = true;
    port.setConnection('up'); // job-1 goes again, is answered at once and wins the race: job-2 is cancelled
    await winner;
    expect(port.published().map((p) => p.topic)).toEqual([`${P}/job-1/update`, `${P}/job-2/update`, `${P}/job-1/update`]);
  });
});
