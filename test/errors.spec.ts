import { inspect } from 'node:util';
import * as t from 'io-ts';
import { firstValueFrom } from 'rxjs';
import { DecodeError, createJobsClient, mqttTransport } from '../src';
import { createFakeMqttPort } from '../src/testing';
import { report, show } from '../src/codecs/decode';

// What AWS IoT puts in a job document for `${aws:iot:s3-presigned-url:...}`: the signature and, with a role's
// temporary credentials, the session token.
const presigned =
  'https://bucket.s3.amazonaws.com/fw.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=SECRET-SESSION-TOKEN&X-Amz-Signature=0123abcd';

describe('DecodeError', () => {
  it("keeps the raw payload readable but out of what loggers print (a job document's presigned URL is a credential)", async () => {
    const port = createFakeMqttPort({
      responder: (topic, payload) => {
        const { clientToken } = JSON.parse(payload) as { clientToken: string };
        // A document the caller's codec refuses: the reply becomes a DecodeError carrying the whole payload.
        const execution = { jobId: 'job-1', status: 'QUEUED', jobDocument: { url: presigned, version: 7 } };
        return [{ topic: `${topic}/accepted`, payload: JSON.stringify({ clientToken, timestamp: 1, execution }) }];
      },
    });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), jobDocument: t.type({ url: t.string, version: t.string }) });
    const error = await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    if (!(error instanceof DecodeError)) return;
    expect(error.payload).toContain('SECRET-SESSION-TOKEN');
    expect(error.issues.join('\n')).toContain('version');
    // console.log / util.inspect, JSON, and a copy of its own fields (what pino and most loggers serialise).
    for (const printed of [inspect(error), inspect(error, { depth: 5 }), JSON.stringify(error), JSON.stringify(Object.assign({}, error))]) {
      expect(printed).not.toContain('SECRET-SESSION-TOKEN');
      expect(printed).not.toContain('X-Amz-Signature');
    }
    expect(Object.keys(error)).not.toContain('payload');
    expect(error).toMatchObject({ codec: 'DescribeJobExecutionResponse', topic: '$aws/things/thing-A/jobs/job-1/get/accepted' });
  });

  it("quotes a URL without its query in an issue line, which ends up in the message and the logs", () => {
    const decoded = t.type({ url: t.number }).decode({ url: presigned });
    const error = new DecodeError({ codec: 'Doc', issues: decoded._tag === 'Left' ? report(decoded.left) : [], payload: '' });
    expect(error.message).toContain('url: expected number, got "https://bucket.s3.amazonaws.com/fw.bin?…"');
    expect(error.message).not.toContain('X-Amz');
    // Also inside a structure, and only the query: the rest is what a reader needs.
    expect(show({ a: [presigned] })).toBe('{"a":["https://bucket.s3.amazonaws.com/fw.bin?…"]}');
    expect(show('http://h/p?x=1#frag')).toBe('"http://h/p?…#frag"');
    expect(show('no url?here')).toBe('"no url?here"');
    // A signed WebSocket URL; JSON inside a string, its slashes and quotes escaped.
    expect(show('wss://a1b2.iot.us-east-1.amazonaws.com/mqtt?X-Amz-Security-Token=TOK')).toBe('"wss://a1b2.iot.us-east-1.amazonaws.com/mqtt?…"');
    expect(show('{"u":"https:\\/\\/b\\/f?X-Amz-Security-Token=TOK"}')).not.toContain('TOK');
    expect(show('{"u":"https://b/f?X-Amz-Signature=S","v":1}')).toBe('"{\\"u\\":\\"https://b/f?…\\",\\"v\\":1}"');
  });
});
