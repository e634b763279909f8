/**
 * RabbitMQ topic matching: words are separated by '.', '*' matches exactly one word and '#'
 * matches zero or more words. So `inventory.*` matches `inventory.reserved` but not
 * `inventory.release.requested` (three words) — the spec relies on that.
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  return matchWords(words(bindingKey), 0, words(routingKey), 0);
}

// RabbitMQ treats an empty key as zero words (so '#' matches '' and '*' does not).
function words(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

function matchWords(pattern: string[], p: number, words: string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const head = pattern[p];
  if (head === '#') {
    // '#' can swallow 0..n words; try every split point.
    for (let k = w; k <= words.length; k++) {
      if (matchWords(pattern, p + 1, words, k)) return true;
    }
    return false;
  }
  if (w === words.length) return false;
  if (head !== '*' && head !== words[w]) return false;
  return matchWords(pattern, p + 1, words, w + 1);
}
