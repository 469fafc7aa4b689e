/**
 * True for a loopback host name as WHATWG URL gives it (`localhost`, `127.x.x.x`, `[::1]`), or `::1` without
 * brackets: traffic there never leaves the machine.
 */
export const isLoopbackHost = (hostname: string): boolean =>
  /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/iu.test(hostname);
