/**
 * The message of anything thrown: an Error's `message`, else its text. Not `instanceof Error`: errors from
 * Node's own modules belong to another realm under test runners' sandboxes, and still have a `message`.
 */
export const errorMessage = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);

/** The `code` of a Node system error (`ENOENT`, `EACCES`), or `fallback`; not by `instanceof`, for the same reason. */
export const errorCode = (error: unknown, fallback: string): string => {
  const code: unknown = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : fallback;
};
