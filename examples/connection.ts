import { readFileSync } from 'node:fs';
import { isThingName, type ConnectMqttOptions } from '../src';

/**
 * Connection options for the examples from the command line and environment:
 *   <url> <thingName>   e.g. mqtt://127.0.0.1:1883 thing-A, or mqtts://xxx-ats.iot.eu-west-1.amazonaws.com thing-A
 *   IOT_JOBS_CERT, IOT_JOBS_KEY, IOT_JOBS_CA   PEM file paths for mutual TLS (AWS IoT Core)
 *   IOT_JOBS_CLIENT_ID   the MQTT client id; default the thing name, as AWS IoT policies usually require. Two
 *                        clients with one id take over each other's connection, so give a second one its own.
 */
export const connectionFromArgs = (args: readonly string[]): { options: ConnectMqttOptions; thingName: string; rest: string[] } => {
  const [url, thingName, ...rest] = args;
  if (url === undefined || thingName === undefined) {
    console.error('usage: <mqtt://host:port | mqtts://host:port> <thingName> [...]');
    process.exit(2);
  }
  // Checked before connecting, so that a typo does not leave a connection open.
  if (!isThingName(thingName)) {
    console.error(`invalid thing name ${JSON.stringify(thingName)}: 1-128 of [a-zA-Z0-9:_-]`);
    process.exit(2);
  }
  const pem = (name: string): { [key: string]: Buffer } => {
    const path = process.env[`IOT_JOBS_${name.toUpperCase()}`];
    return path === undefined ? {} : { [name]: readFileSync(path) };
  };
  const clientId = process.env.IOT_JOBS_CLIENT_ID ?? thingName;
  return { options: { url, clientId, ...pem('cert'), ...pem('key'), ...pem('ca') }, thingName, rest };
};
