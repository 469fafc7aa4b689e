import * as t from 'io-ts';
import { NEVER, of } from 'rxjs';
import { parseJson } from '../../src/codecs/decode';
import type { JobsTransport } from '../../src/transport/transport';
import { createJobsClient, DecodeError, mqttTransport, TransportError } from '../../src';
import { createFakeMqttPort, notifyNextPayload, notifyPayload, wireJobExecution, wireSummary } from '../../src/testing';

// A payload that fails its codec fails only that notification (the issue's contract): the stream goes on for
// every subscriber, and the DecodeError is reported on eventDecodeErrors(), or as a process warning while
// nobody listens there. Found by review: one bad notify-next used to end the stream for all.

const P = '$aws/things/thing-A/jobs';

const setUp = (jobDocument?: t.Type<{ url: string }, unknown>) => {
  const port = createFakeMqttPort();
  const transport = mqttTransport(port, { lingerMs: 0 });
  const jobs = jobDocument === undefined ? createJobsClient({ thingName: 'thing-A', transport }) : createJobsClient({ thingName: 'thing-A', transport, jobDocument });
  return { port, jobs };
};

describe('event streams and notifications that cannot be decoded', () => {
  it('a malformed notify-next is left out for every subscriber, reported once, and the stream goes on', () => {
    const { port, jobs } = setUp();
    const first: string[] = [];
    const second: string[] = [];
    const ended: unknown[] = [];
    const reported: DecodeError[] = [];
    jobs.eventDecodeErrors().subscribe((error) => reported.push(error));
    jobs.nextJobExecutionChanged().subscribe({ next: (e) => first.push(e.execution?.jobId ?? 'none'), error: (e: unknown) => ended.push(e) });
    jobs.nextJobExecutionChanged().subscribe({ next: (e) => second.push(e.execution?.jobId ?? 'none'), error: (e: unknown) => ended.push(e) });
    port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-1' })));
    port.deliver(`${P}/notify-next`, '{"timestamp": "not a number"}');
    port.deliver(`${P}/notify-next`, 'not JSON');
    port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-2' })));
    expect(first).toEqual(['job-1', 'job-2']);
    expect(second).toEqual(['job-1', 'job-2']);
    expect(ended).toEqual([]);
    expect(reported).toHaveLength(2);
    expect(reported[0]).toBeInstanceOf(DecodeError);
    expect(reported[0]).toMatchObject({ topic: `${P}/notify-next`, payload: '{"timestamp": "not a number"}', issues: ['timestamp: expected EpochSeconds, got "not a number"'] });
    expect(reported[1]).toMatchObject({ topic: `${P}/notify-next`, payload: 'not JSON' });
  });

  it('a notify whose job document fails the caller codec is reported; the next notify still arrives', () => {
    const { port, jobs } = setUp(t.type({ url: t.string }));
    const seen: number[] = [];
    const reported: DecodeError[] = [];
    jobs.eventDecodeErrors().subscribe((error) => reported.push(error));
    jobs.nextJobExecutionChanged().subscribe((e) => seen.push(e.execution?.versionNumber ?? 0));
    port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-1', versionNumber: 1, jobDocument: { url: 42 } })));
    port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-1', versionNumber: 2, jobDocument: { url: 'https://x' } })));
    expect(seen).toEqual([2]);
    expect(reported.map((error) => error.issues.join())).toEqual([expect.stringContaining('url')]);
  });

  it('jobExecutionsChanged goes on too', () => {
    const { port, jobs } = setUp();
    const seen: number[] = [];
    const reported: DecodeError[] = [];
    jobs.eventDecodeErrors().subscribe((error) => reported.push(error));
    jobs.jobExecutionsChanged().subscribe((e) => seen.push(e.jobs.QUEUED?.length ?? 0));
    port.deliver(`${P}/notify`, '{"timestamp":1,"jobs":{"QUEUED":"many"}}');
    port.deliver(`${P}/notify`, notifyPayload({ QUEUED: [wireSummary({ jobId: 'job-1' })] }));
    expect(seen).toEqual([1]);
    expect(reported).toHaveLength(1);
  });

  it('while nobody subscribes to eventDecodeErrors, each is a process warning with the payload', () => {
    const { port, jobs } = setUp();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const seen: string[] = [];
      jobs.nextJobExecutionChanged().subscribe((e) => seen.push(e.execution?.jobId ?? 'none'));
      port.deliver(`${P}/notify-next`, '{"timestamp": "not a number"}');
      port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-2' })));
      expect(seen).toEqual(['job-2']);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('cannot decode'),
        expect.objectContaining({ code: 'IOT_JOBS_EVENT_DECODE', detail: expect.stringContaining('not a number') as unknown }),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('the transport failing still ends the stream with its error', () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }) });
    const ended: unknown[] = [];
    jobs.nextJobExecutionChanged().subscribe({ error: (e: unknown) => ended.push(e) });
    port.refuse(`${P}/notify-next`);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toBeInstanceOf(TransportError);
  });

  it('a document codec that throws ends the stream with what it threw, not a crash', () => {
    const throwing = new t.Type<{ url: string }, unknown>(
      'Throwing',
      t.type({ url: t.string }).is,
      () => {
        throw new Error('codec bug');
      },
      (a) => a,
    );
    const { port, jobs } = setUp(throwing);
    const ended: unknown[] = [];
    jobs.nextJobExecutionChanged().subscribe({ error: (e: unknown) => ended.push(e) });
    port.deliver(`${P}/notify-next`, notifyNextPayload(wireJobExecution({ jobId: 'job-1', jobDocument: { url: 'x' } })));
    expect(ended).toEqual([new Error('codec bug')]);
  });

  it('a message the transport marks undecodable (an HTTPS poll reply that failed its codec) is reported, not decoded', () => {
    const undecodable = new DecodeError({ operation: 'nextJobExecutionChanged', codec: 'DescribeJobExecutionResponse', issues: ['execution: bad'], payload: '{"execution":1}' });
    const good = JSON.stringify(notifyNextPayload(wireJobExecution({ jobId: 'job-1' })));
    const transport: JobsTransport = {
      documentEncoding: 'object',
      request: () => NEVER,
      events: () => of({ payload: '{"execution":1}', body: parseJson('{"execution":1}'), undecodable }, { payload: good, body: parseJson(good) }),
    };
    const jobs = createJobsClient({ thingName: 'thing-A', transport });
    const reported: DecodeError[] = [];
    const seen: string[] = [];
    jobs.eventDecodeErrors().subscribe((error) => reported.push(error));
    jobs.nextJobExecutionChanged().subscribe((e) => seen.push(e.execution?.jobId ?? 'none'));
    expect(reported).toEqual([undecodable]);
    expect(seen).toEqual(['job-1']);
  });
});
