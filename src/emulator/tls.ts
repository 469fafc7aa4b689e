import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isThingName } from '../codecs/primitives';

/**
 * A local certificate authority for the emulator's TLS mode, made with the `openssl` command: a CA, a
 * server certificate for localhost/127.0.0.1, and device certificates whose CN is the thing name (as AWS
 * IoT policies identify devices). Files already in the folder are reused.
 */

/** PEM texts the TLS servers need. */
export interface ServerTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const openssl = (args: readonly string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
};

/** Creates (or reuses) the CA and the server certificate in `dir`. */
export const ensureServerTls = (dir: string): ServerTls => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'ca.crt'))) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=iot-jobs-rx emulator CA'], dir);
  }
  if (!existsSync(join(dir, 'server.crt'))) {
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3650', '-extfile', 'server.ext'], dir);
  }
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
  };
};

/** Issues (or reuses) `<thing>.crt` and `<thing>.key` in `dir`, CN = thing name, signed by the emulator CA. */
export const issueDeviceCertificate = (dir: string, thingName: string): { cert: string; key: string } => {
  if (!isThingName(thingName)) throw new Error(`not a valid thing name: ${JSON.stringify(thingName)}`);
  ensureServerTls(dir);
  const cert = join(dir, `${thingName}.crt`);
  const key = join(dir, `${thingName}.key`);
  if (!existsSync(cert)) {
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${thingName}.key`, '-out', `${thingName}.csr`, '-subj', `/CN=${thingName}`], dir);
    openssl(['x509', '-req', '-in', `${thingName}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${thingName}.crt`, '-days', '3650', '-extfile', 'client.ext'], dir);
  }
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
};
