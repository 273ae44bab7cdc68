import { describe, expect, it } from 'vitest';
import { autoWorkers } from '../../src/cards/workers.ts';

// cards.workers 'auto' is chosen by memory as well as CPUs (issue 16): on two
// cores a pool of two workers held ~120 MB more than drawing in-process and
// was no faster, so small machines draw in-process.
describe('cards.workers auto', () => {
  it('draws in-process on two cores or fewer', () => {
    expect(autoWorkers(1)).toBe(0);
    expect(autoWorkers(2)).toBe(0);
  });
  it('uses one worker per CPU on larger machines', () => {
    expect(autoWorkers(4)).toBe(4);
    expect(autoWorkers(16)).toBe(16);
  });
});
