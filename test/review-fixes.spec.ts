import { firstValueFrom } from 'rxjs';
import { EpochSeconds } from '../src/codecs/primitives';
import { InvalidRequestError, RequestTimeoutError, createJobsClient, mqttTransport, type UpdateJobExecutionRequest } from '../src';
import { clientTokenOf, createFakeMqttPort } from '../src/testing';

/** Bugs found by the review of the core client; each test failed before its fix. */
describe('review fixes', () => {
  const P = '$aws/things/thing-A/jobs';

  it('client - a BigInt or a circular object in a request is an InvalidRequestError, not a TypeError', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(createFakeMqttPort()) });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const [key, value] of [['expectedVersion', 1n], ['statusDetails', circular]] as const) {
      const request: UpdateJobExecutionRequest = { jobId: 'job-1', status: 'SUCCEEDED' };
      Reflect.set(request, key, value); // what a JavaScript caller could pass
      await expect(firstValueFrom(jobs.updateJobExecution(request))).rejects.toBeInstanceOf(InvalidRequestError);
    }
  });

  it('client - timeoutMs outside 1..2^31-1 is refused at creation (Node would fire it at once)', () => {
    for (const timeoutMs of [Infinity, 2 ** 31, 0, -5, Number.NaN, 1.5]) {
      expect(() => createJobsClient({ thingName: 'thing-A', transport: mqttTransport(createFakeMqttPort()), timeoutMs })).toThrow(InvalidRequestError);
    }
  });

  it('client - callerStacks other than a boolean (from JavaScript) is refused at creation', () => {
    const options = { thingName: 'thing-A', transport: mqttTransport(createFakeMqttPort()) };
    Reflect.set(options, 'callerStacks', 'no');
    expect(() => createJobsClient(options)).toThrow(/callerStacks: expected a boolean/);
  });

  it('client - a missing or wrong transport (from JavaScript) is an InvalidRequestError at creation, not a TypeError later', () => {
    for (const transport of [undefined, null, {}, { request: () => undefined }, 'mqtt://x']) {
      const options = { thingName: 'thing-A', transport: mqttTransport(createFakeMqttPort()) };
      Reflect.set(options, 'transport', transport);
      expect(() => createJobsClient(options)).toThrow(InvalidRequestError);
      expect(() => createJobsClient(options)).toThrow(/transport: expected mqttTransport\(\) or httpsTransport\(\)/);
    }
  });

  it('client - callerStacks reaches the request pipeline: the default and false take no frames, true does', async () => {
    const capture = jest.spyOn(Error, 'captureStackTrace');
    try {
      const transport = mqttTransport(createFakeMqttPort(), { lingerMs: 0 });
      const byDefault = createJobsClient({ thingName: 'thing-A', transport, timeoutMs: 1 });
      await expect(firstValueFrom(byDefault.describeJobExecution({ jobId: 'job-1' }))).rejects.toBeInstanceOf(RequestTimeoutError);
      const quiet = createJobsClient({ thingName: 'thing-A', transport, timeoutMs: 1, callerStacks: false });
      await expect(firstValueFrom(quiet.describeJobExecution({ jobId: 'job-1' }))).rejects.toBeInstanceOf(RequestTimeoutError);
      expect(capture).not.toHaveBeenCalled();
      const traced = createJobsClient({ thingName: 'thing-A', transport, timeoutMs: 1, callerStacks: true });
      const callingCode = (): Promise<unknown> => firstValueFrom(traced.describeJobExecution({ jobId: 'job-1' }));
      const error = await callingCode().catch((e: unknown) => e);
      expect(capture).toHaveBeenCalled();
      expect(error instanceof RequestTimeoutError ? error.stack : '').toContain('callingCode');
    } finally {
      capture.mockRestore();
    }
  });

  it('EpochSeconds - a timestamp beyond the Date range is refused, never an Invalid Date', () => {
    expect(EpochSeconds.decode(1e20)._tag).toBe('Left');
    expect(EpochSeconds.decode(1_719_940_994)._tag).toBe('Right');
  });

  it('mqtt transport - a JSON reply whose clientToken is readable but the body is odd fails its request at once', async () => {
    const port = createFakeMqttPort({
      responder: (_topic, payload) => [{ topic: `${P}/get/accepted`, payload: `[{"clientToken":"${clientTokenOf(payload) ?? ''}"}]` }],
    });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), timeoutMs: 60_000 });
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).rejects.toMatchObject({ name: 'DecodeError' });
  });
});
