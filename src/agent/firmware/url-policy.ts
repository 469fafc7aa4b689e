import { redactUrl } from './document';
import { isLoopbackHost } from '../../util/loopback';

/**
 * Which download URLs the firmware updater accepts: from the job document, and after each redirect. A
 * refused document URL REJECTS the execution; a refused redirect fails the download.
 */

/** `undefined` when `url` may be fetched, else why not. */
export type UrlPolicy = (url: URL) => string | undefined;

/**
 * Checks `allowedUrlPrefixes` and returns their normalised forms (WHATWG URL `href`), or the issues found.
 * A prefix must be an `http(s)://` URL whose normalised form ends with `/`, with no query or fragment: a
 * prefix is compared as text, so `https://example.com` would also admit `https://example.com.evil.net/`.
 */
export const checkPrefixes = (prefixes: readonly string[]): { readonly prefixes: readonly string[]; readonly issues: readonly string[] } => {
  const issues: string[] = [];
  const normalised: string[] = [];
  for (const prefix of prefixes) {
    let url: URL;
    try {
      url = new URL(prefix);
    } catch {
      issues.push(`allowedUrlPrefixes: not a URL: ${JSON.stringify(prefix)}`);
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') issues.push(`allowedUrlPrefixes: expected https:// or http://, got ${JSON.stringify(prefix)}`);
    else if (url.search !== '' || url.hash !== '' || !url.href.endsWith('/')) issues.push(`allowedUrlPrefixes: must end with "/" and have no query or fragment, got ${JSON.stringify(prefix)}`);
    else normalised.push(url.href);
  }
  return { prefixes: normalised, issues };
};

/**
 * The policy: with `prefixes` (normalised by {@link checkPrefixes}), a URL is accepted when its normalised
 * form starts with one of them; without, any `https://` URL is, and `http://` only for a loopback host
 * (localhost, 127.0.0.0/8, ::1: the emulator and local tests). Userinfo (`user:pass@`) is never accepted.
 */
export const urlPolicy = (prefixes: readonly string[] | undefined): UrlPolicy => (url) => {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${url.protocol}// URLs are not downloaded`;
  if (url.username !== '' || url.password !== '') return 'URLs with a user name or password are not accepted';
  if (prefixes !== undefined) {
    return prefixes.some((prefix) => url.href.startsWith(prefix))
      ? undefined
      : `${redactUrl(url)} is not under an allowed prefix (${prefixes.join(', ')})`;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return `plain http:// is accepted only for loopback hosts, not for ${redactUrl(url)}; use https://`;
  return undefined;
};
