import * as t from 'io-ts';
import { map, type Observable } from 'rxjs';
import { parseJson } from '../../src/codecs/decode';
import { DecodeError, TransportError } from '../../src/errors';
import { events } from '../../src/operations';
import { eventStream } from '../../src/streams/events';
import { notifyNextPayload, wireJobExecution } from '../../src/testing';
import type { EventMessage, JobsTransport } from '../../src/transport/transport';
import { runMarbles } from '../helpers/marbles';
import { thing } from '../helpers/names';

// Marble tests of the event streams on virtual time (the issue asks for them; an audit in stop 11 found only the
// HTTPS-polled streams had them): N subscribers share one transport subscription, from the first subscriber to
// the last one's leaving; a notification that fails its codec is left out and reported while the stream goes
// on; a transport error ends the stream for every subscriber, and a new subscriber starts it again.

const thingName = thing('thing-A');
const topic = '$aws/things/thing-A/jobs/notify-next';
const message = (payload: string): EventMessage => ({ payload, body: parseJson(payload), topic });
const next = (jobId: string): EventMessage => message(JSON.stringify(notifyNextPayload(wireJobExecution({ jobId, jobDocument: { op: jobId } }))));

/** A transport whose notify-next stream is `source`; requests are not used here. */
const transportOf = (source: Observable<EventMessage>): JobsTransport => ({
  documentEncoding: 'object',
  request: () => {
    throw new Error('no requests in these tests');
  },
  events: () => source,
});

/** The notify-next stream over `source`, as the job ids it carries (each subscriber of `stream` subscribes the shared stream). */
const setUp = (source: Observable<EventMessage>) => {
  const reported: DecodeError[] = [];
  const shared = eventStream('nextJobExecutionChanged', events.nextJobExecutionChanged.event(t.unknown), transportOf(source), thingName, (error) => reported.push(error));
  const stream = shared.pipe(map((event) => event.execution?.jobId ?? 'none'));
  return { stream, reported };
};

describe('event streams on virtual time', () => {
  it('events - two subscribers share one transport subscription, held from the first subscriber until the last leaves', () => {
    runMarbles(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('--a--b--c--d--|', { a: next('job-a'), b: next('job-b'), c: next('job-c'), d: next('job-d') });
      const { stream } = setUp(source);
      expectObservable(stream, '^-------!').toBe('--a--b--', { a: 'job-a', b: 'job-b' });
      expectObservable(stream, '---^---------!').toBe('-----b--c--d-', { b: 'job-b', c: 'job-c', d: 'job-d' });
      expectSubscriptions(source.subscriptions).toBe('^------------!');
    });
  });

  it('events - a notification that fails its codec is left out and reported; the stream goes on', () => {
    runMarbles(({ hot, expectObservable, flush }) => {
      const bad = message('{"timestamp":"soon"}');
      const source = hot('--a--x--b--', { a: next('job-a'), x: bad, b: next('job-b') });
      const { stream, reported } = setUp(source);
      expectObservable(stream).toBe('--a-----b--', { a: 'job-a', b: 'job-b' });
      flush();
      expect(reported).toHaveLength(1);
      expect(reported[0]).toBeInstanceOf(DecodeError);
      expect(reported[0]).toMatchObject({ topic, payload: '{"timestamp":"soon"}' });
    });
  });

  it('events - a transport error ends the stream for every subscriber; a later subscriber starts the transport subscription again', () => {
    const failure = new TransportError('subscribe failed');
    runMarbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a--#', { a: next('job-a') }, failure);
      const { stream } = setUp(source);
      const a = { a: 'job-a' };
      expectObservable(stream, '^').toBe('--a--#', a, failure);
      expectObservable(stream, '-^').toBe('--a--#', a, failure); // joins the running subscription
      expectObservable(stream, '--------^').toBe('----------a--#', a, failure);
      expectSubscriptions(source.subscriptions).toBe(['^----!', '--------^----!']);
    });
  });

  it('events - the transport completing completes the stream', () => {
    runMarbles(({ cold, expectObservable }) => {
      const { stream } = setUp(cold('--a--|', { a: next('job-a') }));
      expectObservable(stream).toBe('--a--|', { a: 'job-a' });
    });
  });
});

