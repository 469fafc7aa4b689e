// Found by review: the credentials provider's secrets reached error messages and causes.
import { inspect } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { useDevicePem } from '../helpers/device-pem';
import { replyJson, startTestServer, type TestServer } from '../helpers/http-server';

const SECRET = 'SUPERSECRETKEYVALUE';
const TOKEN = 'SESSIONTOKENVALUE';

describe('credentials provider replies never leak secrets into errors', () => {
  const devicePem = useDevicePem('review-cred-');
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const failWith = async (status: number, body: unknown): Promise<unknown> => {
    const pem = devicePem();
    server = await startTestServer((_r, res) => replyJson(res, status, body), { cert: pem.serverCert, key: pem.serverKey, clientCa: pem.ca });
    const get = iotCredentialsProvider({ endpoint: server.url, roleAlias: 'alias', cert: pem.cert, key: pem.key, ca: pem.ca });
    return firstValueFrom(get()).then(
      () => undefined,
      (e: unknown) => e,
    );
  };

  it('a 200 reply whose expiration is unreadable (epoch number): the error chain holds no secret', async () => {
    const error = await failWith(200, { credentials: { accessKeyId: 'ASIA1', secretAccessKey: SECRET, sessionToken: TOKEN, expiration: 1767225600 } });
    expect(error).toMatchObject({ name: 'TransportError' });
    const shown = inspect(error, { depth: 10 });
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(TOKEN);
  });

  it('a non-200 2xx reply carrying credentials: the error message holds no secret', async () => {
    const error = await failWith(203, { credentials: { accessKeyId: 'ASIA1', secretAccessKey: SECRET, sessionToken: TOKEN, expiration: '2099-01-01T00:00:00Z' } });
    expect(error).toMatchObject({ name: 'TransportError' });
    expect((error as Error).message).not.toContain(SECRET);
  });
});
