import type { ObservableInput } from '../rx';

// Loaded on the first signature, so an MQTT-only device never pays for the signer at start-up.
let signerModules: Promise<[typeof import('@smithy/signature-v4'), typeof import('@smithy/hash-node')]> | undefined;
const loadSigner = () => (signerModules ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]));

/**
 * AWS Signature Version 4 for the HTTPS transport, on the signer the AWS SDK itself uses
 * (@smithy/signature-v4; this is the only file of the client that imports it). The canonical URI is the wire
 * path encoded once more per segment, the generic non-S3 rule, so a raw `$next` is signed as `%24next` and
 * a wire `%24next` as `%2524next`, exactly as @aws-sdk/client-iot-jobs-data-plane signs them
 * (../shared/spec/dependencies.md §4).
 */

/** AWS credentials: a long-term key pair, or temporary ones with a session token and an expiry. */
export interface Credentials {
  /** The access key id (`AKIA…` long-term, `ASIA…` temporary). */
  readonly accessKeyId: string;
  /** The secret key; only ever used to sign, never logged. */
  readonly secretAccessKey: string;
  /** Session token of temporary credentials; sent as `x-amz-security-token`. */
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
}

/**
 * Gives the credentials to sign the next request with. Called once per request, so it must cache: our
 * providers emit cached credentials at once and refresh them only near their expiry.
 *
 * Why `ObservableInput`: our own providers return cold Observables, so their time runs on an RxJS scheduler
 * (virtual time in tests) and a credentials fetch nobody waits for any more is aborted on unsubscribe;
 * accepting any ObservableInput also lets the AWS SDK's Promise providers (`fromNodeProviderChain()`,
 * `fromTemporaryCredentials()`, ...) plug in unchanged. The first value emitted is used.
 */
export type CredentialsProvider = () => ObservableInput<Credentials>;

/** A request to sign, as it will go on the wire. */
export interface SignableRequest {
  readonly method: string;
  /** The path exactly as sent (already percent-encoded), without the query. */
  readonly path: string;
  /** Query parameters, decoded; a repeated key as an array of its values. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** Headers to sign; must include `host`. Names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent (UTF-8 text). Default: none. */
  readonly body?: string;
}

/** Options of {@link signRequest}. */
export interface SignOptions {
  readonly credentials: Credentials;
  /** AWS region of the credential scope, e.g. `us-east-1`. */
  readonly region: string;
  /** Signing name of the service: `iot-jobs-data` for the Jobs device API. */
  readonly service: string;
  /** Signing time, epoch milliseconds. */
  readonly now: number;
  /** Add and sign `x-amz-content-sha256`, as the AWS SDK does. Default true. */
  readonly contentSha256?: boolean;
}

/** The headers {@link signRequest} adds. */
export interface SigV4Headers {
  readonly authorization: string;
  readonly 'x-amz-date': string;
  readonly 'x-amz-content-sha256'?: string;
  readonly 'x-amz-security-token'?: string;
}

const header = (headers: Readonly<Record<string, string>>, name: string): string | undefined => {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
};

/**
 * Signs `request` with SigV4 and returns the headers to add to it: `authorization`, `x-amz-date`, and
 * `x-amz-content-sha256` (unless `contentSha256: false`) and `x-amz-security-token` (with a session token),
 * both of them signed. Every header given is signed except those SigV4 never signs (`user-agent`,
 * `connection`, ...). Errors: rejects with the signer's TypeError when `headers` has no `host`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
export const signRequest = async (request: SignableRequest, options: SignOptions): Promise<SigV4Headers> => {
  const host = header(request.headers, 'host');
  if (host === undefined) throw new TypeError('signRequest: the request must have a host header');
  const { accessKeyId, secretAccessKey, sessionToken } = options.credentials;
  const [{ SignatureV4 }, { Hash }] = await loadSigner();
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
    region: options.region,
    service: options.service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: options.contentSha256 ?? true,
  });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(request.query ?? {})) query[key] = typeof value === 'string' ? value : [...value];
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: host,
      path: request.path,
      query,
      headers: { ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    { signingDate: new Date(options.now) },
  );
  const added = (name: string): string | undefined => header(signed.headers, name);
  const contentSha256 = added('x-amz-content-sha256');
  const securityToken = added('x-amz-security-token');
  return {
    authorization: added('authorization') ?? '',
    'x-amz-date': added('x-amz-date') ?? '',
    ...(contentSha256 === undefined ? {} : { 'x-amz-content-sha256': contentSha256 }),
    ...(securityToken === undefined ? {} : { 'x-amz-security-token': securityToken }),
  };
};
