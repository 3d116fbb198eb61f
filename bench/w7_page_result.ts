// What the W7 page (bench/w7_page.ts) measures and publishes, for bench/w7_browser.ts to read:
// apart from the page, which runs in Chromium only.

/** The variants by name (`?only=` picks some): nabla's two builds, jax-js's two ways of reading the loss. */
export const VARIANT_KEYS = ['nabla', 'nabla-threads', 'jax-async', 'jax-sync'] as const;
export type VariantKey = (typeof VARIANT_KEYS)[number];

export interface W7PageVariant {
  readonly key: VariantKey;
  readonly label: string;
  /** The loss of its first and last step: finite, and falling as it trains. */
  readonly firstLoss: number;
  readonly lastLoss: number;
}

export interface W7PageResult {
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly userAgent: string;
  /** Which nabla build ran: 'relaxed' or 'baseline' SIMD. */
  readonly simd: string;
  /** Workers the page started, by who started them (nabla's pool, jax-js's pool). */
  readonly workers: { readonly nabla: number; readonly jax: number };
  /** Messages the page posted to jax-js's workers per timed step with its pool (each a part of a kernel, or a routine). */
  readonly jaxMessagesPerStep: number;
  readonly variants: readonly W7PageVariant[];
  /** Per variant, its ms per step in each timed round (bench/timing.ts PairedResult.rounds). */
  readonly rounds: number[][];
  readonly steps: number;
}
