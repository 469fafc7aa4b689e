import { createOutputTail } from '../../../src/agent/device-client/output-tail';

describe('createOutputTail', () => {
  it('createOutputTail - keeps everything under the limit', () => {
    const tail = createOutputTail(100);
    tail.push(Buffer.from('a\n'));
    tail.push(Buffer.from('b\n'));
    expect([tail.text(), tail.totalBytes(), tail.lines()]).toStrictEqual(['a\nb\n', 4, 2]);
  });

  it('createOutputTail - keeps only the last bytes of large output, however it is chunked', () => {
    const tail = createOutputTail(10);
    for (let i = 0; i < 1000; i += 1) tail.push(Buffer.from(`line ${i}\n`));
    tail.push(Buffer.from('x'.repeat(100_000)));
    tail.push(Buffer.from('END'));
    expect(tail.text()).toBe('xxxxxxxEND');
    expect(tail.totalBytes()).toBe(100_003 + Array.from({ length: 1000 }, (_v, i) => `line ${i}\n`.length).reduce((a, b) => a + b, 0));
  });

  it('createOutputTail - counts a last line without newline (what allowStdErr counts)', () => {
    const tail = createOutputTail(4);
    tail.push(Buffer.from('one\ntwo\nthr'));
    tail.push(Buffer.from('ee'));
    expect(tail.lines()).toBe(3);
    tail.push(Buffer.from('\n'));
    expect(tail.lines()).toBe(3);
    expect(createOutputTail(4).lines()).toBe(0);
  });

  it('createOutputTail - never starts inside a UTF-8 character', () => {
    const tail = createOutputTail(5);
    tail.push(Buffer.from('aé😀')); // 1 + 2 + 4 bytes: the last 5 bytes start inside "é"
    expect(tail.text()).toBe('😀');
  });

  it('createOutputTail - a limit of 0 keeps nothing but still counts', () => {
    const tail = createOutputTail(0);
    tail.push(Buffer.from('abc\n'));
    expect([tail.text(), tail.totalBytes(), tail.lines()]).toStrictEqual(['', 4, 1]);
  });
});
