import { InvalidRequestError } from '../../src/errors';
import { encodePathSegment, exceptionNameOf, httpCallOf, httpsTransport, regionOf, type HttpsTransportOptions } from '../../src/transport/https';
import type { Call } from '../../src/transport/transport';
import { job, thing } from '../helpers/names';

const keys = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
const call = (operation: Call['operation'], payload: Call['payload'], jobId?: string): Call => ({
  operation,
  thingName: thing('thing-A'),
  clientToken: 'tok',
  payload: { ...payload, clientToken: 'tok' },
  ...(jobId === undefined ? {} : { jobId: jobId === '$next' ? '$next' : job(jobId) }),
});

describe('https routes and options', () => {
  it('https routes - each operation maps to the route of the API (§3.2), clientToken kept client-side', () => {
    expect(httpCallOf(call('getPendingJobExecutions', {}))).toEqual({ method: 'GET', path: '/things/thing-A/jobs', query: {} });
    expect(httpCallOf(call('startNextPendingJobExecution', {}))).toEqual({ method: 'PUT', path: '/things/thing-A/jobs/$next', query: {}, body: '{}' });
    expect(httpCallOf(call('describeJobExecution', { includeJobDocument: false, executionNumber: 0 }, '$next'))).toEqual({
      method: 'GET',
      path: '/things/thing-A/jobs/%24next',
      query: { executionNumber: '0', includeJobDocument: 'false' },
    });
    expect(httpCallOf(call('updateJobExecution', { status: 'FAILED', expectedVersion: 0, includeJobDocument: false }, 'job-1'))).toEqual({
      method: 'POST',
      path: '/things/thing-A/jobs/job-1',
      query: {},
      body: '{"status":"FAILED","expectedVersion":0,"includeJobDocument":false}',
    });
  });

  it('https routes - a call without its jobId is an InvalidRequestError', () => {
    expect(() => httpCallOf(call('updateJobExecution', { status: 'FAILED' }))).toThrow(InvalidRequestError);
  });

  it('https routes - path labels are percent-encoded as the SDK does (encodeURIComponent plus !\'()*)', () => {
    expect(encodePathSegment("thing A/ü!'()*$~")).toBe('thing%20A%2F%C3%BC%21%27%28%29%2A%24~');
    expect(`/things/${encodePathSegment('thing A/ü')}/jobs/${encodePathSegment('missing job')}`).toBe('/things/thing%20A%2F%C3%BC/jobs/missing%20job');
  });

  it.each([
    ['ResourceNotFoundException', 'ResourceNotFoundException'],
    ['ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.service/', 'ResourceNotFoundException'],
    ['aws.protocols#ThrottlingException', 'ThrottlingException'],
    ['com.amazonaws.iot#InvalidRequestException:detail', 'InvalidRequestException'],
    ['TerminalStateException,Other', 'TerminalStateException'],
  ])('https routes - the exception name of %j is %s', (raw, name) => {
    expect(exceptionNameOf(raw)).toBe(name);
  });

  it.each([
    ['data.jobs.iot.us-east-1.amazonaws.com', 'us-east-1'],
    ['a1b2c3d4e5f6g7.jobs.iot.eu-west-1.amazonaws.com', 'eu-west-1'],
    ['data.jobs.iot-fips.us-gov-west-1.amazonaws.com', 'us-gov-west-1'],
    ['data.jobs.iot.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['data.jobs.iot.ap-southeast-2.api.aws', 'ap-southeast-2'],
    ['iot.us-east-1.amazonaws.com', undefined],
    ['a1b2c3-ats.iot.us-east-1.amazonaws.com', undefined],
    ['127.0.0.1', undefined],
  ])('https routes - the region of %s is %s', (host, region) => {
    expect(regionOf(host)).toBe(region);
  });

  const issuesOf = (options: HttpsTransportOptions): readonly string[] => {
    try {
      httpsTransport(options);
    } catch (error) {
      if (error instanceof InvalidRequestError) return error.issues;
      throw error;
    }
    return [];
  };

  it('https options - the region comes from the options or the endpoint host', () => {
    expect(issuesOf({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials: keys })).toEqual([]);
    expect(issuesOf({ endpoint: 'http://127.0.0.1:8080', credentials: keys, region: 'us-east-1' })).toEqual([]);
    expect(issuesOf({ endpoint: 'http://127.0.0.1:8080', credentials: keys })).toEqual(['region: not given, and the endpoint 127.0.0.1 names none']);
    // Device-certificate mode does not sign, so needs no region.
    expect(issuesOf({ endpoint: 'abc.jobs.iot.example.com', tls: { cert: 'c', key: 'k' } })).toEqual([]);
  });

  it('https options - bad options are an InvalidRequestError listing every problem', () => {
    expect(issuesOf({ endpoint: 'ftp://x' })).toEqual([
      'endpoint: expected a host name or an https:// URL, got "ftp://x"',
      'credentials: give SigV4 credentials, or tls.cert and tls.key for device-certificate mode',
    ]);
    expect(issuesOf({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', tls: { cert: 'c' }, pollIntervalMs: 0, pollFailureLimit: Number.NaN })).toEqual([
      'credentials: give SigV4 credentials, or tls.cert and tls.key for device-certificate mode',
      'tls: cert and key go together',
      'pollIntervalMs: expected an integer 1-2147483647 (ms), got 0',
      'pollFailureLimit: expected a positive integer, got NaN',
    ]);
    expect(issuesOf({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials: { accessKeyId: '', secretAccessKey: 's' } })).toEqual(['credentials.accessKeyId: must be a non-empty string']);
  });
});
