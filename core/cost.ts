import type { Price } from './registry.js';

/** About this many characters make a token: the rough count for endpoints that report no usage, and for planning a prompt's size. */
export const CHARS_PER_TOKEN = 4;

/** A rough count for endpoints that report no usage: about four characters a token. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function costUsd(price: Price, promptTokens: number, completionTokens: number): number {
  return (promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok) / 1e6;
}
