import type { Clock } from '../clock';

/** A clock tests drive by hand: `advance` moves both clocks, `stepWall` only the wall clock (an NTP step). */
export class FakeClock implements Clock {
  constructor(
    private mono = 1_000_000,
    private wall = Date.parse('2026-11-23T10:00:00Z'),
  ) {}

  monoMs(): number {
    return this.mono;
  }

  wallMs(): number {
    return this.wall;
  }

  advance(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }

  stepWall(ms: number): void {
    this.wall += ms;
  }
}
