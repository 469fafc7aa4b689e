// Found by review: malformed credentials ended a request with an untyped error from the signer.
import { firstValueFrom, of } from 'rxjs';
import { createJobsClient, isJobsError, type Credentials } from '../../src';
import { httpsTransport } from '../../src/transport/https';
import { replyJson, startTestServer, type TestServer } from '../helpers/http-server';

describe('malformed credentials end the request with a typed error', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    ['a provider emitting keys without a secret', { accessKeyId: 'AKID' }],
    ['a provider emitting null', null],
  ])('%s: the request fails with a JobsError, not a bare Error/TypeError', async (_name, credentials) => {
    server = await startTestServer((_r, res) => replyJson(res, 200, {}));
    const transport = httpsTransport({ endpoint: server.url, region: 'us-east-1', credentials: () => of(credentials as unknown as Credentials) });
    const error = await firstValueFrom(createJobsClient({ thingName: 'thing-A', transport, timeoutMs: 2000 }).getPendingJobExecutions()).catch((e: unknown) => e);
    expect({ typed: isJobsError(error), error: String(error) }).toMatchObject({ typed: true });
  });

  it('fixed keys missing the secret (from JavaScript) are refused when the transport is made', () => {
    expect(() => httpsTransport({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials: { accessKeyId: 'AKID' } as unknown as Credentials })).toThrow(
      expect.objectContaining({ name: 'InvalidRequestError' }),
    );
  });
});
