import { createHash } from 'node:crypto';

/**
 * Files the emulator serves over HTTP (docs/emulator.md "Files"), e.g. a firmware image a job document points
 * at, as an S3 presigned URL would on AWS. Bytes are copied when stored, so the caller may reuse its buffer.
 */

/** What {@link EmulatorFiles.put} returns: where a file is served and what a download must match. */
export interface ServedFile {
  /** `http://host:port/files/<name>` on the control-plane port. */
  readonly url: string;
  /** SHA-256 of the bytes, lowercase hex (also the ETag, in quotes). */
  readonly sha256: string;
  /** Length in bytes. */
  readonly size: number;
}

/**
 * Files served under `/files/` on the control-plane port (`emu.files`): GET and HEAD, single byte ranges,
 * an ETag. Names are 1-128 of `[A-Za-z0-9._-]`, not `.` or `..`.
 */
export interface EmulatorFiles {
  /** Serves `data` (a string is stored as UTF-8) as `name`, replacing a file of that name. Throws RangeError for a bad name. */
  readonly put: (name: string, data: Uint8Array | string) => ServedFile;
  /** Stops serving `name`; false if no such file was served. Throws RangeError for a bad name. */
  readonly remove: (name: string) => boolean;
}

/** A stored file. */
export interface StoredFile {
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

/** The store behind {@link EmulatorFiles}, with the lookup the HTTP handler uses. */
export interface FileStore {
  readonly put: (name: string, data: Uint8Array | string) => StoredFile;
  readonly remove: (name: string) => boolean;
  /** The file named `name`, or undefined (also for a name that is not valid). */
  readonly get: (name: string) => StoredFile | undefined;
}

const namePattern = /^[A-Za-z0-9._-]{1,128}$/;

/** Whether `name` may name a served file: 1-128 of `[A-Za-z0-9._-]`, not `.` or `..`. */
export const isFileName = (name: string): boolean => namePattern.test(name) && name !== '.' && name !== '..';

const checkName = (name: string): void => {
  if (!isFileName(name)) throw new RangeError(`file name: expected 1-128 of [A-Za-z0-9._-], not . or .., got ${JSON.stringify(name)}`);
};

/** Creates an empty {@link FileStore}. */
export const createFileStore = (): FileStore => {
  const files = new Map<string, StoredFile>();
  return {
    put: (name, data) => {
      checkName(name);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : Uint8Array.from(data);
      const file = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
      files.set(name, file);
      return file;
    },
    remove: (name) => {
      checkName(name);
      return files.delete(name);
    },
    get: (name) => (isFileName(name) ? files.get(name) : undefined),
  };
};
