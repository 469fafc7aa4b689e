/** CA certificates as Node's TLS takes them: PEM text, a Buffer, or a list of them. */
export type CaList = string | Buffer | (string | Buffer)[];

/**
 * `ca` checked and copied when the options are checked, so that the code loaded later sees what was checked
 * (a caller may change its array afterwards). `issue` names what is wrong with one that is none of PEM text, a
 * Buffer or a list of them (a JavaScript caller may pass anything).
 */
export const copyCa = (ca: unknown, name: string): { readonly ca?: CaList; readonly issue?: string } => {
  if (ca === undefined) return {};
  if (typeof ca === 'string' || Buffer.isBuffer(ca)) return { ca };
  if (Array.isArray(ca)) {
    const list: unknown[] = ca;
    const entries = list.filter((entry): entry is string | Buffer => typeof entry === 'string' || Buffer.isBuffer(entry));
    if (entries.length === list.length) return { ca: entries };
  }
  return { issue: `${name}: expected PEM text, a Buffer or a list of them` };
};
