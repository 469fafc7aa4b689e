import { NEVER, Observable, firstValueFrom, timeout } from 'rxjs';
import { parseJson } from '../../src/codecs/decode';
import { createJobsClient, TransportError } from '../../src';
import type { EventMessage, JobsTransport } from '../../src/transport/transport';
import { pollerLines } from '../../examples/https-poller';

// Found by review: when the event streams stopped retrying by themselves, examples/https-poller.ts ended at the
// first outage (failureLimit failed polls in a row); it subscribes again after a pause.

it('https-poller - a stream that failed is subscribed again and the poller goes on', async () => {
  let attempts = 0;
  const good = '{"timestamp":1,"execution":{"jobId":"job-1","status":"QUEUED"}}';
  const transport: JobsTransport = {
    documentEncoding: 'json-string',
    request: () => NEVER,
    events: (event) =>
      new Observable<EventMessage>((subscriber) => {
        if (event !== 'nextJobExecutionChanged') return;
        attempts += 1;
        if (attempts === 1) subscriber.error(new TransportError('nextJobExecutionChanged: 5 polls in a row failed', { operation: 'nextJobExecutionChanged' }));
        else subscriber.next({ payload: good, body: parseJson(good) });
      }),
  };
  const jobs = createJobsClient({ thingName: 'thing-A', transport });
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const line = await firstValueFrom(pollerLines(jobs, 10).pipe(timeout(2000)));
    expect(line).toContain('notify-next job-1 QUEUED');
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('5 polls in a row failed; polling again in 0.01 s'));
    expect(attempts).toBe(2);
  } finally {
    errors.mockRestore();
  }
});
