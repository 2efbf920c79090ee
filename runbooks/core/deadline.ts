/**
 * What `work` settles to within `seconds`, or nothing: late, or failed. For the reads and writes a
 * periodic pass makes in every region's table: one region that hangs (a blackhole answers nothing
 * until the client's own timeouts) must not hold the pass past its period; its answer counts as none.
 */
export function withinSeconds<T>(work: Promise<T>, seconds: number): Promise<T | undefined> {
  return unlessLate(
    work.catch(() => undefined),
    seconds,
  );
}

/** What `work` settles to within `seconds` (its failure too), or nothing when it is late. */
export async function unlessLate<T>(work: Promise<T>, seconds: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), seconds * 1000);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}
