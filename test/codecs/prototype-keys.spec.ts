import * as t from 'io-ts';
import { firstValueFrom } from 'rxjs';
import { isLeft } from 'fp-ts/lib/Either';
import { parseJson } from '../../src/codecs/decode';
import { httpDocument } from '../../src/codecs/http';
import { DecodeError, InvalidRequestError } from '../../src/errors';
import { operations } from '../../src/operations';
import { createJobsClient, mqttTransport } from '../../src';
import { clientTokenOf, createFakeMqttPort } from '../../src/testing';

// JSON.parse keeps "__proto__" as an own key; io-ts copies an object with Object.assign once a field changes
// (a timestamp becoming a Date), which turns that key into the copy's prototype, and the intersections then
// merge the inherited fields without checking them. So the key is refused wherever a payload comes in.

const Doc = t.type({ url: t.string }, 'Doc');
const P = '$aws/things/thing-A/jobs';

describe('a "__proto__" key', () => {
  it.each([
    ['plain', '{"a":1,"__proto__":{"b":2}}'],
    ['nested', '{"execution":{"jobId":"j","__proto__":{"jobDocument":{"url":42}}}}'],
    ['escaped', '{"\\u005f\\u005fproto\\u005f\\u005f":{"b":2}}'],
  ])('is noted by parseJson (%s), which still parses it as JSON.parse does', (_label, text) => {
    const parsed = parseJson(text);
    expect(parsed).toMatchObject({ ok: true, protoKey: true });
    expect(JSON.stringify(parsed.ok ? parsed.value : undefined)).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('leaves other payloads, escapes included, as JSON.parse reads them, unflagged', () => {
    const text = '{"clientToken":"t","execution":{"jobId":"j","jobDocument":{"note":"caf\\u00e9","proto":"__proto","constructor":{"prototype":1}}}}';
    const parsed = parseJson(text);
    expect(parsed.ok ? parsed.protoKey : 'not parsed').toBeUndefined();
    expect(JSON.stringify(parsed.ok ? parsed.value : undefined)).toBe(JSON.stringify(JSON.parse(text)));
  });

  // Found in review of stop 9: the check ran JSON.parse with a reviver, which recurses, so a deeply nested
  // payload that held a `\u` escape was "not JSON" while the same without the escape parsed.
  it('is looked for without recursion: deep nesting parses as JSON.parse does, and a key deep down is still noted', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expect(parseJson(`{"clientToken":"\u0041","x":${deep}}`)).toMatchObject({ ok: true, value: { clientToken: 'A' } });
    const hidden = `{"x":${'['.repeat(20_000)}{"__proto__":{"a":1}}${']'.repeat(20_000)}}`;
    expect(parseJson(hidden)).toMatchObject({ ok: true, protoKey: true });
  });

  it('in an HTTPS job document (a JSON string) fails its decode', () => {
    const codec = operations.describeJobExecution.response(httpDocument(Doc));
    const body = { execution: { jobId: 'j', status: 'QUEUED', queuedAt: 1, jobDocument: '{"url":"x","__proto__":{"url":42}}' } };
    expect(isLeft(codec.decode(body))).toBe(true);
  });

  it('in a reply fails that request with DecodeError instead of passing a document the codec never checked', async () => {
    const port = createFakeMqttPort({
      responder: (_topic, payload) => [
        {
          topic: `${P}/job-1/get/accepted`,
          payload: `{"clientToken":"${clientTokenOf(payload) ?? ''}","timestamp":1,"execution":{"jobId":"job-1","status":"QUEUED","queuedAt":1,"__proto__":{"jobDocument":{"url":42}}}}`,
        },
      ],
    });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port, { lingerMs: 0 }), jobDocument: Doc, timeoutMs: 2000 });
    const error = await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect(error instanceof DecodeError ? error.issues.join('\n') : '').toContain('__proto__');
  });

  it('in a request is an InvalidRequestError, at the top and inside statusDetails', () => {
    const top: unknown = JSON.parse('{"jobId":"job-1","status":"IN_PROGRESS","expectedVersion":"1","__proto__":{"statusDetails":{"bad key":"a\\nb"}}}');
    const inner: unknown = JSON.parse('{"jobId":"job-1","status":"IN_PROGRESS","expectedVersion":"1","statusDetails":{"ok":"yes","__proto__":{"bad key":"x"}}}');
    const innerString: unknown = JSON.parse('{"jobId":"job-1","status":"IN_PROGRESS","statusDetails":{"ok":"yes","__proto__":"x"}}');
    for (const request of [top, inner, innerString]) {
      let thrown: unknown;
      try {
        // A JavaScript caller's object, as JSON.parse made it: the types cannot see the key.
        operations.updateJobExecution.encode(request as Parameters<typeof operations.updateJobExecution.encode>[0]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidRequestError);
      expect(thrown instanceof InvalidRequestError ? thrown.issues.join('\n') : '').toContain('__proto__');
    }
  });
});
