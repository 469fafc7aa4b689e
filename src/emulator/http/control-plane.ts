import type * as http from 'node:http';
import { parseJson } from '../../codecs/decode';
import type { Engine } from '../engine/engine';
import { ControlFailure, controlRoutes, invalidRequest, type ControlRoute } from './control-routes';
import { readBody, sendFailure, sendJson, type HttpFailure } from './respond';

/** Options of {@link controlPlaneHandler}. */
export interface ControlPlaneOptions {
  /** The engine the operations run on. */
  readonly engine: Engine;
  /** The clock, epoch milliseconds: the `Date` header and timer estimates come from it. */
  readonly now: () => number;
}

const compiled: readonly { readonly route: ControlRoute; readonly segments: readonly string[] }[] = Object.values(controlRoutes).map(
  (route) => ({ route, segments: route.path.split('/').slice(1) }),
);

const label = /^\{(\w+)\}$/;

/** The route serving `method path`, with its decoded labels; throws {@link ControlFailure}. */
const match = (method: string, path: string): { route: ControlRoute; labels: Record<string, string> } => {
  const parts = path.split('/').slice(1);
  for (const { route, segments } of compiled) {
    if (route.method !== method || segments.length !== parts.length) continue;
    const labels: Record<string, string> = {};
    const fits = segments.every((segment, i) => {
      const part = parts[i] ?? '';
      const name = label.exec(segment)?.[1];
      if (name === undefined) return segment === part;
      labels[name] = decodeLabel(part);
      return labels[name] !== '';
    });
    if (fits) return { route, labels };
  }
  throw new ControlFailure({ exception: 'UnknownOperationException', status: 404, message: `No control-plane operation at ${method} ${path}` });
};

const decodeLabel = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalidRequest(`Malformed percent-encoding in path segment ${part}`);
  }
};

const parseBody = (text: string): unknown => {
  if (text.trim() === '') return {};
  const parsed = parseJson(text);
  if (!parsed.ok) throw invalidRequest(`Request body is not JSON: ${parsed.message}`);
  return parsed.value;
};

const internalFailure = (error: unknown): HttpFailure => ({
  exception: 'InternalFailureException',
  status: 500,
  message: `Internal failure: ${error instanceof Error ? error.message : String(error)}`,
});

const serve = async ({ engine, now }: ControlPlaneOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const query = Object.fromEntries(new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)));
  try {
    const { route, labels } = match(req.method ?? 'GET', path);
    const body = await readBody(req);
    if (!body.ok) throw new ControlFailure(body.failure);
    const reply = route.handle({ labels, query, body: parseBody(body.text), engine, nowMs: now() });
    sendJson(res, now(), 200, reply);
  } catch (error) {
    if (!(error instanceof ControlFailure)) throw error;
    req.resume(); // drain what is left of the body, so the client reads the reply
    sendFailure(res, now(), error.failure);
  }
};

/**
 * The emulator's control plane: the `iot` restJson1 subset that `@aws-sdk/client-iot` drives (CreateJob,
 * DescribeJob, GetJobDocument, ListJobs, CancelJob, DeleteJob, ListJobExecutionsForJob,
 * ListJobExecutionsForThing, DescribeJobExecution, CancelJobExecution, DeleteJobExecution). Requests are not
 * authenticated (any SigV4 signature, or none, is accepted); bodies are limited to 1 MB.
 *
 * Errors: AWS exceptions by `x-amzn-ErrorType` with a `{"message"}` body: InvalidRequestException (400; 413
 * for a body over 1 MB), ResourceNotFoundException (404), ResourceAlreadyExistsException,
 * InvalidStateTransitionException and VersionConflictException (409), UnknownOperationException (404, no
 * such route), InternalFailureException (500).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT.html
 */
export const controlPlaneHandler =
  (options: ControlPlaneOptions) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    serve(options, req, res).catch((error: unknown) => {
      req.resume();
      sendFailure(res, options.now(), internalFailure(error));
    });
  };
