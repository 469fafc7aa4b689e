/**
 * iot-jobs-rx/emulator: a local AWS IoT Jobs service for development and tests, no cloud account needed.
 * An MQTT broker with the Jobs service on the reserved topics, the `iot-jobs-data` HTTP API with SigV4
 * checked (or, in TLS mode, a device certificate), in TLS mode the AWS IoT credentials provider, a
 * control plane that `@aws-sdk/client-iot` can drive, and files served over HTTP. Device requests can be
 * rate limited and faults injected (docs/emulator.md).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SchedulerLike } from 'rxjs';
import type { Engine, EngineSnapshot } from './engine/engine';
import type { EngineOptions } from './engine/types';
import { createDeviceGate } from './device-gate';
import { createFaultInjector, type EmulatorFaults } from './faults';
import { createFileStore, type EmulatorFiles, type ServedFile, type StoredFile } from './file-store';
import { controlPlaneHandler } from './http/control-plane';
import { defaultCredentialDurationSeconds, defaultRoleAlias } from './http/credentials-endpoint';
import { dataPlaneHandler } from './http/data-plane';
import { filesHandler, filesPrefix, isFilesTarget } from './http/files-handler';
import { startJobsBroker } from './mqtt/broker';
import { checkRateLimit, type RateLimit } from './rate-limit';
import { createJobsService } from './service';
import { readStateFile, writeStateFile } from './state-file';
import { ensureServerTls, issueDeviceCertificate } from './tls';

export { issueDeviceCertificate } from './tls';
export { defaultCredentialDurationSeconds, defaultRoleAlias } from './http/credentials-endpoint';
export { StateFileError } from './state-file';
export type { EngineOptions } from './engine/types';
export type { EmulatorFaults, FaultFilter } from './faults';
export type { EmulatorFiles, ServedFile } from './file-store';
export type { RateLimit } from './rate-limit';

/** Access keys the emulator's data plane accepts. */
export interface EmulatorCredentials {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
}

/** The keys accepted unless others are given. For local use only. */
export const defaultEmulatorCredentials: EmulatorCredentials = {
  accessKeyId: 'AKIAIOTJOBSEMULATOR0',
  secretAccessKey: 'iot-jobs-rx-emulator-secret-access-key',
};

/** Options of {@link startEmulator}; every port defaults to 0 (a free port). */
export interface EmulatorOptions extends EngineOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** MQTT broker port (`mqtts` in TLS mode). Default 0: a free port, read back from `mqttUrl`. */
  readonly mqttPort?: number;
  /** iot-jobs-data API port (HTTPS in TLS mode). Default 0, read back from `dataEndpoint`. */
  readonly dataPort?: number;
  /** Control-plane port (HTTP). Default 0, read back from `controlEndpoint`. */
  readonly controlPort?: number;
  /** Keys the data plane accepts. Default {@link defaultEmulatorCredentials}. */
  readonly credentials?: EmulatorCredentials;
  /** Check SigV4 signatures (and, in TLS mode, device certificates) on the data plane. Default true. */
  readonly verifySignatures?: boolean;
  /** A device may only publish and subscribe its own thing's topics. Default false. */
  readonly strict?: boolean;
  /** Keep jobs and executions in this file across restarts. */
  readonly statePath?: string;
  /**
   * TLS mode: create a local CA and certificates in this folder. MQTT then requires a device certificate;
   * the data plane is HTTPS and accepts a device certificate in place of SigV4, and serves the credentials
   * provider.
   */
  readonly tlsDir?: string;
  /** Things to issue device certificates for in TLS mode. Default `['thing-A']`. */
  readonly tlsThings?: readonly string[];
  /** TLS mode: the role aliases the credentials provider knows. Default `[defaultRoleAlias]` (`iot-jobs-rx-emulator`). */
  readonly roleAliases?: readonly string[];
  /** TLS mode: lifetime of the credentials the credentials provider issues. Default 3600 s. */
  readonly credentialDurationSeconds?: number;
  /** Clock and timers (a VirtualTimeScheduler in tests). Default: wall clock. */
  readonly scheduler?: SchedulerLike;
  /**
   * Throttle each thing's device requests (MQTT and HTTP together) with a token bucket on the emulator's
   * clock; over the limit: MQTT `RequestThrottled`, HTTP 429 ThrottlingException. Default: no limit.
   */
  readonly rateLimit?: RateLimit;
  /** Files to serve from the start, by name (see {@link Emulator.files}). Default none. */
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
}

/** A running emulator. */
export interface Emulator {
  /** `mqtt://host:port` (`mqtts://` in TLS mode). */
  readonly mqttUrl: string;
  /** `http://host:port` (`https://` in TLS mode): the iot-jobs-data API. */
  readonly dataEndpoint: string;
  /** `http://host:port`: the control plane (CreateJob, CancelJob, ...). */
  readonly controlEndpoint: string;
  /** The access keys its data plane accepts, to sign requests with. */
  readonly credentials: EmulatorCredentials;
  /** TLS mode: the folder with ca.crt and `<thing>.crt`/`<thing>.key`. */
  readonly tlsDir?: string;
  /**
   * TLS mode: the AWS IoT credentials provider (`https://host:port`, for `iotCredentialsProvider`). It is
   * the data plane's own port; AWS serves it on a host of its own.
   */
  readonly credentialsEndpoint?: string;
  /** The engine, for tests and tools that drive the service directly. */
  readonly engine: Engine;
  /** Files served over HTTP under `/files/` on the control-plane port (e.g. a firmware image for a job). */
  readonly files: EmulatorFiles;
  /** Fault injection for the device API, at run time: throttled requests, lost replies. */
  readonly faults: EmulatorFaults;
  /** Closes every server and client connection; the state file, if any, keeps the state. */
  readonly close: () => Promise<void>;
}

const listen = async (server: http.Server, port: number, host: string): Promise<number> => {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : port;
};

const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });

/**
 * Writes the state file after each change. A write that fails (the disk full, the folder removed) must not
 * take the emulator down in the middle of a device's request: it is reported as a process warning, once until
 * a write succeeds again, and the next change tries again.
 */
const persistTo = (path: string) => {
  let failing = false;
  return (snapshot: EngineSnapshot): void => {
    try {
      writeStateFile(path, snapshot);
      failing = false;
    } catch (error) {
      if (failing) return;
      failing = true;
      process.emitWarning(`cannot write the emulator's state file ${path}: ${error instanceof Error ? error.message : String(error)}`, { code: 'IOT_JOBS_EMULATOR_STATE' });
    }
  };
};

/**
 * Starts the emulator. Resolves once every port listens; rejects (a port in use, say) with nothing left
 * running.
 * @example
 * const emu = await startEmulator();
 * const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A' });
 */
export const startEmulator = async (options: EmulatorOptions = {}): Promise<Emulator> => {
  const { host = '127.0.0.1', mqttPort = 0, dataPort = 0, controlPort = 0, statePath, tlsDir, scheduler, ...rest } = options;
  const { credentials = defaultEmulatorCredentials, verifySignatures = true, strict = false, tlsThings = ['thing-A'], ...more } = rest;
  const { roleAliases = [defaultRoleAlias], credentialDurationSeconds = defaultCredentialDurationSeconds, rateLimit, files = {}, ...knobs } = more;
  if (!Number.isInteger(credentialDurationSeconds) || credentialDurationSeconds < 1) {
    throw new Error(`credentialDurationSeconds: expected a positive whole number, got ${String(credentialDurationSeconds)}`);
  }
  if (rateLimit !== undefined) checkRateLimit(rateLimit);
  const store = createFileStore();
  for (const [name, data] of Object.entries(files)) store.put(name, data);
  const restore = statePath === undefined ? undefined : readStateFile(statePath);
  const service = createJobsService({
    ...knobs,
    ...(scheduler === undefined ? {} : { scheduler }),
    ...(restore === undefined ? {} : { restore }),
    ...(statePath === undefined ? {} : { persist: persistTo(statePath) }),
  });
  const tls = tlsDir === undefined ? undefined : ensureServerTls(tlsDir);
  if (tlsDir !== undefined) for (const thing of tlsThings) issueDeviceCertificate(tlsDir, thing);
  const injector = createFaultInjector();
  const gate = createDeviceGate({ faults: injector, now: service.now, ...(rateLimit === undefined ? {} : { rateLimit }) });
  const broker = await startJobsBroker({ engine: service.engine, now: service.now, host, port: mqttPort, strict, gate, ...(tls === undefined ? {} : { tls }) }).catch(
    (error: unknown) => {
      service.stop();
      throw error;
    },
  );
  const subscription = service.notifications$.subscribe((n) => broker.publishNotification(n));
  const data = dataPlaneHandler({
    engine: service.engine,
    credentials,
    now: service.now,
    verify: verifySignatures,
    gate,
    ...(tls === undefined ? {} : { deviceCertificates: true, credentialsProvider: { roleAliases, credentialDurationSeconds } }),
  });
  // TLS mode asks for a client certificate but lets clients without one (SigV4) in; the data plane judges.
  const dataServer = tls === undefined ? http.createServer(data) : https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, data);
  const control = controlPlaneHandler({ engine: service.engine, now: service.now });
  const serveFile = filesHandler(store);
  const controlServer = http.createServer((req, res) => {
    if (isFilesTarget(req.url ?? '/')) serveFile(req, res);
    else control(req, res);
  });
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const stop = async (): Promise<void> => {
    subscription.unsubscribe();
    service.stop();
    await Promise.all([broker.close(), closeServer(dataServer), closeServer(controlServer)]);
  };
  let boundData: number;
  let boundControl: number;
  try {
    boundData = await listen(dataServer, dataPort, host);
    boundControl = await listen(controlServer, controlPort, host);
  } catch (error) {
    // A port is taken (say): close what did start, or the process would stay alive holding it.
    await stop();
    throw error;
  }
  const dataEndpoint = `${tls === undefined ? 'http' : 'https'}://${hostInUrl}:${boundData}`;
  const controlEndpoint = `http://${hostInUrl}:${boundControl}`;
  const served = (name: string, file: StoredFile): ServedFile => ({ url: `${controlEndpoint}${filesPrefix}${name}`, sha256: file.sha256, size: file.bytes.byteLength });
  return {
    mqttUrl: broker.url,
    dataEndpoint,
    controlEndpoint,
    credentials,
    ...(tlsDir === undefined ? {} : { tlsDir, credentialsEndpoint: dataEndpoint }),
    engine: service.engine,
    files: {
      put: (name, data) => served(name, store.put(name, data)),
      remove: (name) => store.remove(name),
    },
    faults: { ...injector.faults, disconnect: (thingName) => broker.disconnect(thingName) },
    close: stop,
  };
};
