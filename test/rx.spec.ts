import * as rxjs from 'rxjs';
import * as rx from '../src/rx';
import * as rxExtra from '../src/rx-extra';
import * as rxHttps from '../src/rx-https';
import * as rxCli from '../src/cli/rx';

describe('rx', () => {
  it.each([
    ['src/rx.ts', rx, 10],
    ['src/rx-https.ts', rxHttps, 18],
    ['src/rx-extra.ts', rxExtra, 30],
    ['src/cli/rx.ts', rxCli, 35],
  ])('rx - every export of %s is the very object the rxjs index exports (one RxJS shared with the app)', (_, module: object, atLeast) => {
    const names = Object.keys(module);
    expect(names.length).toBeGreaterThan(atLeast);
    for (const name of names) {
      expect([name, Reflect.get(module, name)]).toEqual([name, Reflect.get(rxjs, name)]);
      expect(Reflect.get(module, name)).toBe(Reflect.get(rxjs, name));
    }
  });

  it('rx - src/rx-https.ts exports all of src/rx.ts, and src/rx-extra.ts all of src/rx-https.ts', () => {
    for (const name of Object.keys(rx)) expect([name, Reflect.get(rxHttps, name)]).toEqual([name, Reflect.get(rx, name)]);
    for (const name of Object.keys(rxHttps)) expect([name, Reflect.get(rxExtra, name)]).toEqual([name, Reflect.get(rxHttps, name)]);
  });
});
