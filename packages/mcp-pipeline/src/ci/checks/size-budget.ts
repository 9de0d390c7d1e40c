import type { Check } from "./check.js";
import { evaluateSize } from "./size.js";

/** `size-budget`: the image's uncompressed (and, if budgeted, compressed) size against the budget. */
export const sizeBudget: Check = {
  id: "size-budget",
  perPlatform: true,
  // The image's sizes are the image's; only the budget is an input of its own.
  cacheKey: async (ctx) => ({ budget: ctx.config.sizeBudget }),
  run: async (ctx) =>
    evaluateSize({
      uncompressedBytes: ctx.facts.sizeBytes,
      compressedBytes: ctx.facts.compressedBytes,
      layers: ctx.facts.layers,
      budget: ctx.config.sizeBudget,
    }),
};
