import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { peerCertificate } from './data-plane-auth';
import type { HttpFailure } from './respond';
import type { SigV4Credentials } from './sigv4-verify';

/**
 * The emulator's AWS IoT credentials provider (../shared/spec/aws-iot-connection.md §11):
 * `GET /role-aliases/{alias}/credentials` over mutual TLS trades a device certificate for credentials the
 * data plane accepts. They are the emulator's own key pair plus a random session token and an expiry; the
 * data plane checks the signature (the token is one of its signed headers) but neither the token nor the
 * expiry. Messages and statuses are the ones observed on AWS.
 */

/** The role alias the emulator accepts unless others are configured. */
export const defaultRoleAlias = 'iot-jobs-rx-emulator';

/** Default lifetime of issued credentials: 3600 s, AWS's default `credentialDurationSeconds`. */
export const defaultCredentialDurationSeconds = 3600;

/** Options of {@link credentialsReply}. */
export interface CredentialsEndpointOptions {
  /** The key pair handed out (the data plane's own). */
  readonly credentials: SigV4Credentials;
  /** Role aliases that exist. Default `[defaultRoleAlias]`. */
  readonly roleAliases?: readonly string[];
  /** Lifetime of the credentials. Default {@link defaultCredentialDurationSeconds}. */
  readonly credentialDurationSeconds?: number;
  /** The clock, epoch milliseconds; `expiration` is counted from it. */
  readonly now: () => number;
}

/** The provider's reply: 200 with the credentials, or an error (`x-amzn-ErrorType` and `{"message"}`). */
export type CredentialsReply = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly failure: HttpFailure };

const pathPattern = /^\/role-aliases\/([^/?]*)\/credentials(?:\?.*)?$/;

/** Whether a request target is for the credentials provider (`/role-aliases/...`). */
export const isCredentialsTarget = (target: string): boolean => target.startsWith('/role-aliases/');

const refuse = (exception: string, status: number, message: string): CredentialsReply => ({ ok: false, failure: { exception, status, message } });

const decodeAlias = (raw: string): string | undefined => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
};

/**
 * Answers a request for `/role-aliases/...`. In order: only `GET /role-aliases/{alias}/credentials`
 * exists (else 404 UnknownOperationException); a client certificate signed by the emulator's CA is required
 * (else 403 AccessDeniedException "Certificate is invalid on this endpoint"; AWS refuses an unknown one in the
 * TLS handshake); the alias must exist (else 404 ResourceNotFoundException "Role alias does not exist"); an
 * `x-amzn-iot-thingname` header must name the certificate's thing, its CN (else 403 AccessDeniedException
 * "Invalid thing name passed").
 */
export const credentialsReply = (req: http.IncomingMessage, options: CredentialsEndpointOptions): CredentialsReply => {
  const target = req.url ?? '/';
  const match = pathPattern.exec(target);
  const alias = match?.[1] === undefined ? undefined : decodeAlias(match[1]);
  if (req.method !== 'GET' || alias === undefined) {
    return refuse('UnknownOperationException', 404, `No operation of the credentials provider matches ${req.method ?? 'GET'} ${target.split('?')[0] ?? ''}`);
  }
  const peer = peerCertificate(req);
  if (peer.kind !== 'trusted') return refuse('AccessDeniedException', 403, 'Certificate is invalid on this endpoint');
  if (!(options.roleAliases ?? [defaultRoleAlias]).includes(alias)) return refuse('ResourceNotFoundException', 404, 'Role alias does not exist');
  const header = req.headers['x-amzn-iot-thingname'];
  const thingName = Array.isArray(header) ? header.join(',') : header;
  if (thingName !== undefined && thingName !== peer.thingName) return refuse('AccessDeniedException', 403, 'Invalid thing name passed');
  const lifetimeMs = (options.credentialDurationSeconds ?? defaultCredentialDurationSeconds) * 1000;
  // Whole seconds, as AWS writes it: 2018-01-18T09:18:06Z.
  const expiration = new Date(Math.floor((options.now() + lifetimeMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const { accessKeyId, secretAccessKey } = options.credentials;
  return { ok: true, body: { credentials: { accessKeyId, secretAccessKey, sessionToken: randomBytes(48).toString('base64'), expiration } } };
};
