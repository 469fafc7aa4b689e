/**
 * The last bytes of a child's stdout or stderr, in bounded memory, however much it writes. Device Client
 * stops reading after ~1000 lines and thereby kills the job with SIGPIPE
 * (../shared/spec/device-client-jobs.md §3.4, aws-iot-device-client#461); we keep reading and keep a tail.
 */

/** A bounded tail of one output stream. */
export interface OutputTail {
  /** Adds a chunk as read from the pipe. */
  push(chunk: Buffer): void;
  /** Bytes seen in total (not only those kept). */
  readonly totalBytes: () => number;
  /**
   * Lines seen in total: newline-terminated lines, plus a last line without newline. This is what
   * `allowStdErr` counts (Device Client counts 1023-byte read chunks, which for text is the same).
   */
  readonly lines: () => number;
  /** The kept bytes as UTF-8 text: at most the limit, starting at a character boundary. */
  readonly text: () => string;
}

const newline = 0x0a;

/** Starts a tail that keeps at most `limitBytes` (≥ 0) of the most recent output. */
export const createOutputTail = (limitBytes: number): OutputTail => {
  const limit = Math.max(0, Math.floor(limitBytes));
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  let newlines = 0;
  let endsWithNewline = true;

  const push = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    total += chunk.length;
    for (const byte of chunk) if (byte === newline) newlines += 1;
    endsWithNewline = chunk[chunk.length - 1] === newline;
    // Copy what we keep, so that a 64 KiB pipe chunk is not held alive by a small slice of it.
    const piece = Buffer.from(chunk.length > limit ? chunk.subarray(chunk.length - limit) : chunk);
    kept.push(piece);
    keptBytes += piece.length;
    let first = kept[0];
    while (first !== undefined && keptBytes - first.length >= limit) {
      kept.shift();
      keptBytes -= first.length;
      first = kept[0];
    }
  };

  const text = (): string => {
    const all = Buffer.concat(kept);
    let start = Math.max(0, all.length - limit);
    // Skip UTF-8 continuation bytes (10xxxxxx) cut off from their lead byte.
    for (let i = 0; i < 3; i += 1) {
      const byte = all[start];
      if (byte === undefined || (byte & 0xc0) !== 0x80) break;
      start += 1;
    }
    return all.subarray(start).toString('utf8');
  };

  return {
    push,
    totalBytes: () => total,
    lines: () => newlines + (total > 0 && !endsWithNewline ? 1 : 0),
    text,
  };
};
