/**
 * Numbered gates for a test double that counts its calls: the test holds call
 * number n, learns when it is reached, and decides when it may go on.
 */
export interface Gates {
  /** makes call `n` (0-based) wait until the returned release() */
  hold(n: number): { reached: Promise<void>; release: () => void };
  /** called by the double for its call `n`: waits there if that call is held */
  pass(n: number): Promise<void>;
}

export function createGates(): Gates {
  const gates = new Map<number, { reached: () => void; released: Promise<void> }>();
  return {
    hold(n) {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      gates.set(n, { reached, released });
      return { reached: reachedPromise, release };
    },
    async pass(n) {
      const gate = gates.get(n);
      if (!gate) return;
      gate.reached();
      await gate.released;
    },
  };
}
