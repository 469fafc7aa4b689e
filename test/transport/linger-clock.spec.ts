import { firstValueFrom } from 'rxjs';
import { createJobsClient, mqttTransport } from '../../src';
import { InvalidRequestError } from '../../src/errors';
import { clientTokenOf, createFakeMqttPort } from '../../src/testing';

// Found by review: `lingerMs` was not checked (Node runs a timer of 2^31 ms or more after 1 ms, so a linger of
// Infinity released the event subscription at once and re-armed the reply linger every millisecond), and the
// reply linger measured the wall clock, so a clock stepped back held an idle subscription for the step.

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

const answering = () =>
  createFakeMqttPort({
    responder: (topic, payload) => [{ topic: `${topic}/accepted`, payload: JSON.stringify({ clientToken: clientTokenOf(payload), timestamp: 1 }) }],
  });

describe('mqttTransport lingerMs', () => {
  it.each([Infinity, 2 ** 31, -1, 1.5, Number.NaN])('refuses %p with InvalidRequestError before any subscription', (lingerMs) => {
    const port = createFakeMqttPort();
    expect(() => mqttTransport(port, { lingerMs })).toThrow(InvalidRequestError);
    expect(() => mqttTransport(port, { lingerMs })).toThrow(/lingerMs: expected an integer 0-2147483647/);
    expect(port.activeFilters()).toEqual([]);
  });

  it('takes 0 and the largest timer Node runs', () => {
    const port = createFakeMqttPort();
    expect(() => mqttTransport(port, { lingerMs: 0 })).not.toThrow();
    expect(() => mqttTransport(port, { lingerMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it('counts on a monotonic clock: a wall clock set back does not hold an idle reply subscription', async () => {
    const port = answering();
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 20 }) });
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    const realNow = Date.now.bind(Date);
    // An NTP step or `date -s` one hour back, just after the filter went idle.
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000);
    try {
      await sleep(150);
      expect(port.activeFilters()).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
