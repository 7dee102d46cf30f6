import type { PublisherClock } from '../src/core/view/runViewPublisher';

/** A clock advanced by hand, so the publisher's batching (its timing is a pure function of the clock) is reproduced exactly. */
export class ScriptedClock implements PublisherClock {
  private t = 0;
  private timers: Array<{ due: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ due: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!due) {
        break;
      }
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.due;
      due.fn();
    }
    this.t = end;
  }
}
