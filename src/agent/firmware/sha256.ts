import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Observable } from '../../rx-extra';

/**
 * The SHA-256 of a file, streamed (an image never has to fit in memory): emits the lowercase hex digest
 * and completes, or errors with the file system's error. Cold; unsubscribing stops reading.
 */
export const sha256File = (path: string): Observable<string> =>
  new Observable<string>((subscriber) => {
    const hash = createHash('sha256');
    const stream = createReadStream(path);
    stream.on('data', (chunk) => {
      hash.update(chunk);
    });
    stream.on('error', (error) => {
      subscriber.error(error);
    });
    stream.on('end', () => {
      subscriber.next(hash.digest('hex'));
      subscriber.complete();
    });
    return () => {
      stream.destroy();
    };
  });
