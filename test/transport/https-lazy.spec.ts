// Found in review of stop 13 (the casts stand for JavaScript callers): with the HTTPS code loaded lazily, options that Node's Agent refuses, and a `ca`
// that is not PEM, a Buffer or a list of them, no longer threw when the transport was made, and the options
// were read again after the caller could change them.
import { firstValueFrom } from 'rxjs';
import { InvalidRequestError } from '../../src';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { httpsTransport, type HttpsTransportOptions } from '../../src/transport/https';
import { replyJson, startTestServer } from '../helpers/http-server';
import { thing } from '../helpers/names';

const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const base: HttpsTransportOptions = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: keys };
const refusal = (make: () => unknown): unknown => {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('the HTTPS transport and the credentials provider, loaded when made', () => {
  it.each([
    ['agent.maxTotalSockets: expected a number of at least 1, got 0', { ...base, agent: { maxTotalSockets: 0 } }],
    ['agent.scheduling: expected fifo or lifo, got "x"', { ...base, agent: { scheduling: 'x' } as unknown as NonNullable<HttpsTransportOptions['agent']> }],
    ['tls.ca: expected PEM text, a Buffer or a list of them', { ...base, tls: { ca: 5 } as unknown as NonNullable<HttpsTransportOptions['tls']> }],
  ])('https lazy - %s: refused when the transport is made', (issue, options) => {
    const error = refusal(() => httpsTransport(options));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error instanceof InvalidRequestError ? error.issues : []).toEqual([issue]);
  });

  it('https lazy - a credentials provider ca that is not PEM is refused when it is made', () => {
    const error = refusal(() => iotCredentialsProvider({ endpoint: 'c.example.com', roleAlias: 'alias', cert: 'c', key: 'k', ca: [5] as unknown as string[] }));
    expect(error instanceof InvalidRequestError ? error.issues : error).toEqual(['ca: expected PEM text, a Buffer or a list of them']);
  });

  it('https lazy - the options as checked are used: a change the caller makes afterwards does not reach the transport', async () => {
    const server = await startTestServer((_request, response) => replyJson(response, 200, { inProgressJobs: [], queuedJobs: [] }));
    try {
      const agent = { maxTotalSockets: 2 };
      const transport = httpsTransport({ ...base, endpoint: server.url, agent });
      // Changed in the same tick, before the transport's code has loaded: Node would refuse 0 when the agent is made.
      agent.maxTotalSockets = 0;
      const reply = await firstValueFrom(transport.request({ operation: 'getPendingJobExecutions', thingName: thing('thing-A'), clientToken: 't', payload: {} }));
      expect(reply).toMatchObject({ outcome: 'accepted', httpStatus: 200 });
    } finally {
      await server.close();
    }
  });

  it('https lazy - a request subscribed in the same tick as the transport was made is sent once the code has loaded', async () => {
    const server = await startTestServer((_request, response) => replyJson(response, 200, { inProgressJobs: [], queuedJobs: [] }));
    try {
      const reply = await firstValueFrom(httpsTransport({ ...base, endpoint: server.url }).request({ operation: 'getPendingJobExecutions', thingName: thing('thing-A'), clientToken: 't', payload: {} }));
      expect(reply).toMatchObject({ outcome: 'accepted' });
      expect(server.requests.length).toBe(1);
    } finally {
      await server.close();
    }
  });
});
