import * as assert from 'assert';
import { anytimeIndex, bestSoFarCurve } from '../../src/core/reasoning/anytimeIndex';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

describe('anytimeIndex', () => {
  it('constant full quality scores 1', () => {
    close(anytimeIndex([{ tokens: 0, quality: 1 }, { tokens: 50, quality: 1 }, { tokens: 100, quality: 1 }]), 1);
  });
  it('a step to full quality at half the budget scores about 0.5', () => {
    const step = [{ tokens: 0, quality: 0 }, { tokens: 49.999, quality: 0 }, { tokens: 50, quality: 1 }, { tokens: 100, quality: 1 }];
    assert.ok(Math.abs(anytimeIndex(step) - 0.5) < 0.001);
  });
  it('a linear ramp scores 0.5 (trapezoids are exact)', () => {
    close(anytimeIndex([{ tokens: 0, quality: 0 }, { tokens: 100, quality: 1 }]), 0.5);
  });
  it('uses best-so-far quality: a later drop does not lower the index', () => {
    const drop = anytimeIndex([{ tokens: 0, quality: 1 }, { tokens: 100, quality: 0 }]);
    close(drop, 1);
    assert.deepStrictEqual(bestSoFarCurve([{ tokens: 10, quality: 0.2 }, { tokens: 0, quality: 0.5 }]).map((p) => p.quality), [0.5, 0.5]);
  });
  it('normalises by Q_max', () => {
    close(anytimeIndex([{ tokens: 0, quality: 0.5 }, { tokens: 10, quality: 0.5 }], 0.5), 1);
    close(anytimeIndex([{ tokens: 0, quality: 0.5 }, { tokens: 10, quality: 0.5 }], 1), 0.5);
  });
  it('is defined for degenerate curves', () => {
    close(anytimeIndex([{ tokens: 40, quality: 0.8 }]), 0.8);
    close(anytimeIndex([{ tokens: 40, quality: 0.3 }, { tokens: 40, quality: 0.6 }]), 0.6);
    assert.strictEqual(anytimeIndex([]), 0);
    assert.strictEqual(anytimeIndex([{ tokens: 1, quality: 1 }], 0), 0);
  });
  it('earlier good answers score higher', () => {
    const early = anytimeIndex([{ tokens: 0, quality: 0 }, { tokens: 10, quality: 1 }, { tokens: 100, quality: 1 }]);
    const late = anytimeIndex([{ tokens: 0, quality: 0 }, { tokens: 90, quality: 1 }, { tokens: 100, quality: 1 }]);
    assert.ok(early > late);
  });
});
