/** Time as the rooms see it; tests move it to check expiries (tokens, 30-day purge, delta tokens). */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
