/**
 * iot-jobs-rx/testing: fakes and payload builders for unit tests of your own stream code, with no broker.
 * @example
 * const port = createFakeMqttPort({ responder: (topic, payload) => replyFor(topic, payload, { inProgressJobs: [], queuedJobs: [] }) });
 * const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port) });
 */
export { createFakeMqttPort, type FakeMqttAction, type FakeMqttPort, type FakeMqttPortOptions } from './fake-mqtt-port';
export { createFakeJobsTransport, type FakeJobsTransport, type FakeJobsTransportOptions } from './fake-transport';
export {
  acceptedPayload,
  clientTokenOf,
  notifyNextPayload,
  notifyPayload,
  rejectedPayload,
  replyFor,
  wireJobExecution,
  wireSummary,
  wireTimestamp,
} from './builders';
