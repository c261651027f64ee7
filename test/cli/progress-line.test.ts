import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../lambda/cli/progress-line.js';

function fakeStream(isTTY: boolean) {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += chunk.toString();
      done();
    },
  }) as Writable & {
    isTTY: boolean;
    columns: number;
    cursorTo: () => boolean;
    clearLine: () => boolean;
    moveCursor: () => boolean;
  };
  stream.isTTY = isTTY;
  stream.columns = 120;
  stream.cursorTo = () => true;
  stream.clearLine = () => true;
  stream.moveCursor = () => true;
  return { stream: stream as unknown as NodeJS.WriteStream, output: () => written };
}

describe('ProgressLine', () => {
  it('on a terminal, shows done/total, rate, errors and ETA', () => {
    const { stream, output } = fakeStream(true);
    const line = new ProgressLine(stream);
    line.update({ accepted: 1000, dispatchDone: true, done: 250, failed: 7 });
    line.stop();
    expect(output()).toMatch(/250\/1000 URLs \| \d+\/s \| 7 errors \| ETA/);
  });

  it('marks the total as still growing while dispatch runs', () => {
    const { stream, output } = fakeStream(true);
    const line = new ProgressLine(stream);
    line.update({ accepted: 500, dispatchDone: false, done: 10, failed: 0 });
    line.stop();
    expect(output()).toMatch(/10\/500\+ URLs/);
  });

  it('writes nothing when stderr is not a terminal', () => {
    const { stream, output } = fakeStream(false);
    const line = new ProgressLine(stream);
    line.update({ accepted: 10, dispatchDone: true, done: 10, failed: 0 });
    line.stop();
    expect(output()).toBe('');
  });
});
