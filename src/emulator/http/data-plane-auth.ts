import type * as http from 'node:http';
import { TLSSocket } from 'node:tls';
import type { HttpFailure } from './respond';
import { verifySigV4, type SignedRequest, type SigV4Credentials } from './sigv4-verify';

/**
 * Who may call the emulator's data plane (docs/emulator.md "Device certificates"). AWS serves the Jobs API
 * two ways (../shared/spec/jobs-api.md §3.1): SigV4 on 443, or the device certificate (mutual TLS) on 8443,
 * authorised by the certificate's IoT policy. The emulator serves both on one port: a request that carries
 * an `Authorization` header is judged by SigV4 alone (the certificate, if any, only opened the TLS session,
 * as on AWS's SigV4 endpoint); a request without one is judged by its client certificate. The IoT policy is
 * emulated by the rule a thing policy usually states: a certificate acts only for the thing named by its CN.
 */

/** The client certificate of a request's TLS session. */
export type PeerCertificate =
  | { readonly kind: 'none' }
  | { readonly kind: 'trusted'; readonly thingName: string }
  | { readonly kind: 'untrusted'; readonly reason: string };

/** Whether, and as whom, a request was authenticated. */
export type Principal =
  | { readonly kind: 'certificate'; readonly thingName: string }
  | { readonly kind: 'sigv4' }
  /** Checks are off (`verify: false`). */
  | { readonly kind: 'unchecked' };

/** The outcome of {@link authenticate}. */
export type AuthVerdict = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly failure: HttpFailure };

/** Options of {@link authenticate}. */
export interface AuthOptions {
  /** The key pair SigV4 signatures must be made with. */
  readonly credentials: SigV4Credentials;
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /** The SigV4 signing name, `iot-jobs-data`. */
  readonly service: string;
  /** false: every request is let through unchecked. */
  readonly verify: boolean;
  /** Accept a client certificate the server's CA trusts in place of SigV4. */
  readonly deviceCertificates: boolean;
}

const reasonOf = (error: unknown): string => {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? error.code : error.message;
  return 'not verified';
};

/**
 * The client certificate of the request's TLS session: none (plain HTTP, or no certificate sent), trusted
 * (verified against the server's `ca`; its CN is the thing name), or untrusted (with OpenSSL's reason). The
 * server must be created with `requestCert: true, rejectUnauthorized: false` so untrusted ones get here.
 */
export const peerCertificate = (req: http.IncomingMessage): PeerCertificate => {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return { kind: 'none' };
  // Node's types promise a certificate; at run time it is `{}` when the client sent none.
  const certificate: Record<string, unknown> = { ...socket.getPeerCertificate() };
  if (Object.keys(certificate).length === 0) return { kind: 'none' };
  if (!socket.authorized) return { kind: 'untrusted', reason: reasonOf(socket.authorizationError) };
  const subject = certificate['subject'];
  const cn: unknown = typeof subject === 'object' && subject !== null && 'CN' in subject ? subject.CN : undefined;
  return typeof cn === 'string' && cn !== '' ? { kind: 'trusted', thingName: cn } : { kind: 'untrusted', reason: 'the certificate has no subject CN' };
};

/**
 * Authenticates a data-plane request (see the module comment). An untrusted client certificate without
 * SigV4 is 400 CertificateValidationException, the exception the service model has for "the certificate is
 * invalid" (real AWS IoT refuses an unknown certificate in the TLS handshake, which the emulator cannot do
 * while it also serves SigV4 clients without certificates); a bad or missing signature is 403 as before.
 */
export const authenticate = async (req: http.IncomingMessage, request: SignedRequest, options: AuthOptions): Promise<AuthVerdict> => {
  if (!options.verify) return { ok: true, principal: { kind: 'unchecked' } };
  const signed = req.headers.authorization !== undefined;
  if (options.deviceCertificates && !signed) {
    const peer = peerCertificate(req);
    if (peer.kind === 'trusted') return { ok: true, principal: { kind: 'certificate', thingName: peer.thingName } };
    if (peer.kind === 'untrusted') {
      const message = `The client certificate is not valid on this endpoint (${peer.reason}): it must be signed by the emulator's CA`;
      return { ok: false, failure: { exception: 'CertificateValidationException', status: 400, message } };
    }
  }
  const verdict = await verifySigV4(request, { credentials: options.credentials, service: options.service, now: options.now });
  if (verdict.ok) return { ok: true, principal: { kind: 'sigv4' } };
  const hint = options.deviceCertificates && verdict.exception === 'MissingAuthenticationTokenException' ? ', and no device certificate was presented' : '';
  return { ok: false, failure: { exception: verdict.exception, status: 403, message: `${verdict.message}${hint}` } };
};

/**
 * What the emulated thing policy allows: a device certificate acts only for its own thing; SigV4 callers
 * (IAM) for any thing. Refused: 403 ForbiddenException, as AWS answers a policy denial.
 */
export const authorize = (principal: Principal, thingName: string): HttpFailure | undefined => {
  if (principal.kind !== 'certificate' || principal.thingName === thingName) return undefined;
  return {
    exception: 'ForbiddenException',
    status: 403,
    message: `Not authorized: the device certificate is for thing ${principal.thingName}, and its policy does not allow acting for thing ${thingName}`,
  };
};
