/** JSON nesting limits PostHog's capture applies (rust capture parses with serde_json). */

/** serde_json's recursion limit: rust capture refuses JSON nested deeper than this. */
export const MAX_JSON_DEPTH = 128;

/**
 * Nesting depth of a JSON text, read without parsing it (a linear scan that skips strings), so a
 * body nested 100,000 deep is refused before JSON.parse or anything recursive sees it.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
