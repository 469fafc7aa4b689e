import { isJobId, isThingName, type JobId, type ThingName } from '../../src/codecs/primitives';

/** A branded thing name for fixtures (throws on a bad fixture). */
export const thing = (name: string): ThingName => {
  if (!isThingName(name)) throw new Error(`bad thing fixture ${name}`);
  return name;
};

/** A branded job id for fixtures (throws on a bad fixture). */
export const job = (id: string): JobId => {
  if (!isJobId(id)) throw new Error(`bad job fixture ${id}`);
  return id;
};

/** The message JSON.parse gives for `text`. */
export const jsonErrorOf = (text: string): string => {
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};
