import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueDeviceCertificate } from '../../src/emulator/tls';

/** A local CA, its server certificate and thing-A's device certificate, as PEM text. */
export interface DevicePem {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Issues a CA, a server certificate and thing-A's device certificate in a temporary folder before the
 * enclosing describe's tests (removed after them); call the returned function inside a test for the PEMs.
 */
export const useDevicePem = (prefix: string): (() => DevicePem) => {
  let dir = '';
  let pem: DevicePem | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    const device = issueDeviceCertificate(dir, 'thing-A');
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    pem = { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), ...device };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (pem === undefined) throw new Error('useDevicePem: read the PEMs inside a test');
    return pem;
  };
};
