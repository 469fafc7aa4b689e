import * as rxjs from 'rxjs';
import * as rx from '../src/rx';

describe('rx', () => {
  it('rx - every export is the very object the rxjs index exports (one RxJS shared with the app)', () => {
    const names = Object.keys(rx);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      expect([name, Reflect.get(rx, name)]).toEqual([name, Reflect.get(rxjs, name)]);
      expect(Reflect.get(rx, name)).toBe(Reflect.get(rxjs, name));
    }
  });
});
