// Detects a deliberate gesture: N clicks within a time window. Time is passed in.

export class ClickBurst {
  private stamps: number[] = [];
  constructor(
    private readonly count: number,
    private readonly windowMs: number,
  ) {}

  /** Records a click at `now`; true when it completes a burst (and then starts over). */
  click(now: number): boolean {
    this.stamps = this.stamps.filter((t) => now - t <= this.windowMs);
    this.stamps.push(now);
    if (this.stamps.length >= this.count) {
      this.stamps = [];
      return true;
    }
    return false;
  }
}
