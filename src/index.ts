/**
 * iot-jobs-rx: the AWS IoT Jobs device API as RxJS Observables, over MQTT or HTTPS, with every payload
 * checked by io-ts codecs.
 */
export { createJobsClient, type JobsClient, type JobsClientOptions } from './client';
export {
  DecodeError,
  InvalidRequestError,
  JobsError,
  RejectedError,
  RequestTimeoutError,
  TransportError,
  isJobsError,
  type DecodeErrorOptions,
  type EventName,
  type JobsErrorOptions,
  type OperationName,
  type RejectedErrorOptions,
  type RejectedExecutionState,
  type TransportErrorOptions,
} from './errors';
export { mqttTransport, type MqttTransportOptions } from './transport/mqtt';
export { connectMqtt, type ConnectMqttOptions } from './transport/connect-mqtt';
export { httpsTransport, type HttpsTlsOptions, type HttpsTransportOptions } from './transport/https';
export {
  environmentCredentials,
  iotCredentialsProvider,
  staticCredentials,
  type IotCredentialsProviderOptions,
} from './transport/credentials';
export type { Credentials, CredentialsProvider } from './transport/sigv4';
export { fromMqttClient } from './transport/mqtt-js-port';
export type { ConnectionState, MqttClientPort, MqttMessage, MqttPort, SubscriptionEvent } from './transport/mqtt-port';
export type { Call, DocumentEncoding, EventMessage, JobsTransport, JsonObject, Reply } from './transport/transport';
export {
  eventTopic,
  jobsPrefix,
  matchesFilter,
  parseJobsTopic,
  replyFilter,
  replyTopic,
  requestTopic,
  type JobsTopic,
  type Outcome,
} from './transport/topics';
export {
  DeviceStatus,
  JobExecutionState,
  JobExecutionStatus,
  JobExecutionSummary,
  isTerminalStatus,
  jobExecution,
  type DocumentCodec,
  type JobExecution,
} from './codecs/job-execution';
export { JobId, JobIdOrNext, StatusDetails, ThingName, isJobId, isThingName, statusDetailsValueMaxLength } from './codecs/primitives';
export type {
  DescribeJobExecutionRequest,
  GetPendingJobExecutionsRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from './codecs/requests';
export {
  RejectedErrorCode,
  isKnownRejectedErrorCode,
  type DescribeJobExecutionResponse,
  type GetPendingJobExecutionsResponse,
  type StartNextPendingJobExecutionResponse,
  type UpdateJobExecutionResponse,
} from './codecs/responses';
export type { JobExecutionsChangedEvent, NextJobExecutionChangedEvent } from './codecs/events';
