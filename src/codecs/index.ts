/** Internal barrel of the codec edge (not a public entry). */
export * from './primitives';
export * from './job-execution';
export * from './requests';
export * from './responses';
export * from './events';
export * from './http';
export { decodeJson, decodeParsed, decodePayload, encodeRequest, parseJson, report, type PayloadSource, type Parsed } from './decode';
