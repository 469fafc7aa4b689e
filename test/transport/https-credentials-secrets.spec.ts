// Found by review: the credentials provider's secrets reached error messages and causes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { issueDeviceCertificate } from '../../src/emulator/tls';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { replyJson, startTestServer, type TestServer } from '../helpers/http-server';

const SECRET = 'SUPERSECRETKEYVALUE';
const TOKEN = 'SESSIONTOKENVALUE';

describe('credentials provider replies never leak secrets into errors', () => {
  let dir: string;
  let pem: { ca: string; cert: string; key: string; serverCert: string; serverKey: string };
  let server: TestServer | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'review-cred-'));
    const device = issueDeviceCertificate(dir, 'thing-A');
    const read = (n: string) => readFileSync(join(dir, n), 'utf8');
    pem = { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), ...device };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const failWith = async (status: number, body: unknown): Promise<unknown> => {
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
