import * as t from 'io-ts';

/**
 * The job document of {@link firmwareUpdateHandler}, and the names derived from it that become paths on the
 * device. Every field that reaches the file system is checked here, so a document can never write outside
 * the install folder.
 */

/** The `operation` the firmware updater claims, and the handler's name. */
export const firmwareUpdateOperation = 'firmware-update';

// Starts with a letter or digit, so never `.`, `..` or a hidden name; no `/`, so always one path segment.
const versionPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const sha256Pattern = /^[0-9a-fA-F]{64}$/;

/** Brand of {@link FirmwareVersion}. */
export interface FirmwareVersionBrand {
  /** The brand's tag: a string checked to be a firmware version. */
  readonly FirmwareVersion: unique symbol;
}
/**
 * A release name: 1–128 of `[A-Za-z0-9._+-]`, starting with a letter or digit (e.g. `2.4.1`, `2024-06-01+rc1`).
 * It names the folder `releases/<version>/`, so it is always one safe path segment.
 */
export const FirmwareVersion = t.brand(t.string, (s): s is t.Branded<string, FirmwareVersionBrand> => versionPattern.test(s), 'FirmwareVersion');
export type FirmwareVersion = t.TypeOf<typeof FirmwareVersion>;

/** A SHA-256 digest: 64 hex digits, either case; decodes to lower case. */
export const Sha256Hex = new t.Type<string, string, unknown>(
  'Sha256Hex',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
  (u, c) => (typeof u === 'string' && sha256Pattern.test(u) ? t.success(u.toLowerCase()) : t.failure(u, c)),
  t.identity,
);

const isHttpUrl = (s: string): boolean => {
  try {
    const { protocol } = new URL(s);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
};

/** An absolute `https://` or `http://` URL (which ones this device accepts is {@link FirmwareUpdateOptions.allowedUrlPrefixes}). */
export const HttpUrl = t.refinement(t.string, isHttpUrl, 'HttpUrl');

/** A size in bytes: a whole number from 1. */
export const ByteSize = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'ByteSize');

/**
 * A firmware-update job document:
 * `{ "operation": "firmware-update", "version": "2.4.1", "url": "https://…/app-2.4.1.tar", "sha256": "<64 hex>", "size": 1048576 }`.
 * `size` is optional; when present the download must be exactly that long. Unknown extra fields are allowed
 * (AWS may add some, and operators annotate documents).
 */
export const FirmwareUpdateDocument = t.intersection(
  [
    t.type({ operation: t.literal(firmwareUpdateOperation), version: FirmwareVersion, url: HttpUrl, sha256: Sha256Hex }),
    t.partial({ size: ByteSize }),
  ],
  'FirmwareUpdateDocument',
);
export type FirmwareUpdateDocument = t.TypeOf<typeof FirmwareUpdateDocument>;

const fileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/**
 * The name the image gets in `releases/<version>/`: the last segment of the URL's path when it is a plain
 * file name (1–128 of `[A-Za-z0-9._+-]`, not hidden), else `firmware.bin`. Never a path.
 */
export const releaseFileName = (url: string): string => {
  const segment = new URL(url).pathname.split('/').pop() ?? '';
  return fileNamePattern.test(segment) ? segment : 'firmware.bin';
};

/** A URL fit for logs and status details: no credentials, no query string (a presigned URL's signature). */
export const redactUrl = (url: string | URL): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
};
