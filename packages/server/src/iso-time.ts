/**
 * A formatter from epoch ms to ISO 8601 that keeps its last answer: the times written per call (a deadline, a record's
 * start and end) mostly repeat the previous millisecond, and `toISOString` is the dear part. Each user makes its
 * own, so one's times do not push out another's.
 */
export function isoFormatter(): (ms: number) => string {
  let lastMs = NaN;
  let lastIso = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
}
